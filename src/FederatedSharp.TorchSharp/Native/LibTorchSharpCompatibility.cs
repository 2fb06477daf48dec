namespace FederatedSharp.TorchSharp.Native;

/// <summary>
/// Tells whether this process needs the GLIBCXX fix for TorchSharp's native shim. The fix itself is applied at build
/// time by this package's <c>buildTransitive</c> targets (see <see cref="ElfVersionNeedPatcher"/>).
/// </summary>
public static class LibTorchSharpCompatibility
{
    /// <summary>Whether this is Linux x64 with a libstdc++ that lacks <see cref="ElfVersionNeedPatcher.MissingGlibcxxVersion"/>.</summary>
    public static bool IsFixNeeded =>
        OperatingSystem.IsLinux()
        && System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.X64
        && !ElfVersionNeedPatcher.SystemLibStdCxxHasVersion(ElfVersionNeedPatcher.MissingGlibcxxVersion);
}

// This one file is compiled twice: into FederatedSharp.TorchSharp (public API, tested) and, by MSBuild's
// RoslynCodeTaskFactory, into the build task that patches the consumer's copy of libLibTorchSharp.so.
// Keep it dependency free (BCL only) so both compilations work.
#nullable enable
using System;
using System.IO;
using System.Text;

#if FEDERATEDSHARP_LIBRARY
namespace FederatedSharp.TorchSharp.Native;
#else
namespace FederatedSharp.TorchSharp.Build;
#endif

/// <summary>Outcome of <see cref="ElfVersionNeedPatcher.MarkVersionNeedWeak(byte[], string, string)"/>.</summary>
internal enum ElfPatchOutcome
{
    /// <summary>The version need was found and its <c>VER_FLG_WEAK</c> bit was set.</summary>
    Patched,

    /// <summary>The version need was found and was already weak; nothing changed.</summary>
    AlreadyWeak,

    /// <summary>The object has no such version need; nothing changed.</summary>
    NotFound,
}

/// <summary>
/// Edits one <c>Elf64_Vernaux</c> entry of an ELF shared object: sets the <c>VER_FLG_WEAK</c> (0x2) bit of the
/// version need <c>version</c> of file <c>file</c>, so that glibc's loader accepts the object on a system whose
/// library lacks that version. Nothing else in the file changes.
/// </summary>
/// <remarks>
/// TorchSharp 0.107's <c>libLibTorchSharp.so</c> is built with GCC 13 and records a need for
/// <c>GLIBCXX_3.4.32</c> (only for the unused symbol <c>_ZSt21ios_base_library_initv</c>); Debian 12, Ubuntu 22.04
/// and RHEL 9 ship an older libstdc++ and refuse to load it. Marking that need weak is the whole fix.
/// </remarks>
internal static class ElfVersionNeedPatcher
{
    /// <summary>The library file whose version need TorchSharp's shim cannot satisfy on older distributions.</summary>
    public const string LibStdCxxFile = "libstdc++.so.6";

    /// <summary>The version that GCC 13 records and older libstdc++ builds do not define.</summary>
    public const string MissingGlibcxxVersion = "GLIBCXX_3.4.32";

    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    /// <summary>Sets the weak flag of the version need <paramref name="version"/> of <paramref name="file"/> in an ELF image held in memory.</summary>
    /// <param name="image">The whole ELF file; edited in place.</param>
    /// <param name="file">The needed file name, for example <c>libstdc++.so.6</c>.</param>
    /// <param name="version">The needed version name, for example <c>GLIBCXX_3.4.32</c>.</param>
    /// <returns>What was done.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="InvalidDataException">The image is not a well-formed little-endian ELF64 object.</exception>
    public static ElfPatchOutcome MarkVersionNeedWeak(byte[] image, string file, string version)
    {
        if (image is null) { throw new ArgumentNullException(nameof(image)); }
        if (file is null) { throw new ArgumentNullException(nameof(file)); }
        if (version is null) { throw new ArgumentNullException(nameof(version)); }
        if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
        {
            throw new InvalidDataException("Not an ELF file: the magic number 0x7F 'E' 'L' 'F' is missing.");
        }

        if (image[4] != 2 || image[5] != 1)
        {
            throw new InvalidDataException("Only little-endian ELF64 objects are supported.");
        }

        ulong sectionTable = ReadU64(image, 0x28);
        int entrySize = ReadU16(image, 0x3A);
        int sectionCount = ReadU16(image, 0x3C);
        if (entrySize < 64 || sectionTable == 0 || sectionTable + (ulong)(entrySize * sectionCount) > (ulong)image.Length)
        {
            throw new InvalidDataException("The ELF section header table lies outside the file.");
        }

        for (int s = 0; s < sectionCount; s++)
        {
            int header = checked((int)sectionTable + (s * entrySize));
            if (ReadU32(image, header + 4) != ShtGnuVerneed)
            {
                continue;
            }

            int verneed = checked((int)ReadU64(image, header + 24));
            int verneedSize = checked((int)ReadU64(image, header + 32));
            int link = (int)ReadU32(image, header + 40);
            int needCount = (int)ReadU32(image, header + 44);
            if (link >= sectionCount || verneed + verneedSize > image.Length)
            {
                throw new InvalidDataException("The .gnu.version_r section is malformed.");
            }

            int stringsHeader = checked((int)sectionTable + (link * entrySize));
            int strings = checked((int)ReadU64(image, stringsHeader + 24));
            int stringsSize = checked((int)ReadU64(image, stringsHeader + 32));

            int need = verneed;
            for (int n = 0; n < needCount; n++)
            {
                Check(image, need, 16, verneed, verneedSize);
                int auxCount = ReadU16(image, need + 2);
                string needFile = ReadString(image, strings, stringsSize, ReadU32(image, need + 4));
                int aux = need + (int)ReadU32(image, need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    Check(image, aux, 16, verneed, verneedSize);
                    string auxName = ReadString(image, strings, stringsSize, ReadU32(image, aux + 8));
                    if (needFile == file && auxName == version)
                    {
                        ushort flags = ReadU16(image, aux + 4);
                        if ((flags & VerFlagWeak) != 0)
                        {
                            return ElfPatchOutcome.AlreadyWeak;
                        }

                        flags |= VerFlagWeak;
                        image[aux + 4] = (byte)(flags & 0xff);
                        image[aux + 5] = (byte)(flags >> 8);
                        return ElfPatchOutcome.Patched;
                    }

                    uint nextAux = ReadU32(image, aux + 12);
                    if (nextAux == 0) { break; }
                    aux += (int)nextAux;
                }

                uint next = ReadU32(image, need + 12);
                if (next == 0) { break; }
                need += (int)next;
            }
        }

        return ElfPatchOutcome.NotFound;
    }

    /// <summary>Patches the file at <paramref name="path"/> in place when it needs <see cref="MissingGlibcxxVersion"/>.</summary>
    /// <param name="path">A copy of <c>libLibTorchSharp.so</c> (never the one in the NuGet package cache).</param>
    /// <returns>What was done.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed little-endian ELF64 object.</exception>
    public static ElfPatchOutcome PatchFile(string path)
    {
        if (path is null) { throw new ArgumentNullException(nameof(path)); }
        byte[] image = File.ReadAllBytes(path);
        ElfPatchOutcome outcome = MarkVersionNeedWeak(image, LibStdCxxFile, MissingGlibcxxVersion);
        if (outcome == ElfPatchOutcome.Patched)
        {
            string temp = path + ".fsharp-tmp";
            File.WriteAllBytes(temp, image);
            File.Copy(temp, path, overwrite: true);
            File.Delete(temp);
        }

        return outcome;
    }

    /// <summary>
    /// Whether the system's <c>libstdc++.so.6</c> defines <paramref name="version"/>. Returns <see langword="true"/>
    /// when no libstdc++ is found in the usual places (nothing to fix then).
    /// </summary>
    /// <param name="version">A version such as <c>GLIBCXX_3.4.32</c>.</param>
    /// <returns>Whether the version is available.</returns>
    public static bool SystemLibStdCxxHasVersion(string version)
    {
        string[] candidates =
        {
            "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        };
        byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
        foreach (string candidate in candidates)
        {
            if (!File.Exists(candidate))
            {
                continue;
            }

            byte[] library = File.ReadAllBytes(candidate);
            return IndexOf(library, needle) >= 0;
        }

        return true;
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        int limit = haystack.Length - needle.Length;
        for (int i = Array.IndexOf(haystack, needle[0]); i >= 0 && i <= limit; i = Array.IndexOf(haystack, needle[0], i + 1))
        {
            int j = 1;
            while (j < needle.Length && haystack[i + j] == needle[j]) { j++; }
            if (j == needle.Length) { return i; }
        }

        return -1;
    }

    private static void Check(byte[] image, int offset, int size, int start, int length)
    {
        if (offset < start || offset + size > start + length || offset + size > image.Length)
        {
            throw new InvalidDataException("A version need entry points outside the .gnu.version_r section.");
        }
    }

    private static string ReadString(byte[] image, int strings, int size, uint offset)
    {
        if (offset >= size) { throw new InvalidDataException("A version name points outside the string table."); }
        int start = strings + (int)offset;
        int end = start;
        while (end < strings + size && image[end] != 0) { end++; }
        return Encoding.ASCII.GetString(image, start, end - start);
    }

    private static ushort ReadU16(byte[] b, int o) => (ushort)(b[o] | (b[o + 1] << 8));

    private static uint ReadU32(byte[] b, int o) => (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24));

    private static ulong ReadU64(byte[] b, int o) => ReadU32(b, o) | ((ulong)ReadU32(b, o + 4) << 32);
}

#if !FEDERATEDSHARP_LIBRARY
/// <summary>MSBuild task: patches the consumer's copies of libLibTorchSharp.so when the system libstdc++ is too old.</summary>
public sealed class PatchLibTorchSharp : Microsoft.Build.Utilities.Task
{
    /// <summary>Candidate copies of libLibTorchSharp.so in the consumer's output.</summary>
    public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

    /// <summary>Patch even when the system libstdc++ defines the version (for tests).</summary>
    public bool Force { get; set; }

    /// <inheritdoc />
    public override bool Execute()
    {
        if (!Force && ElfVersionNeedPatcher.SystemLibStdCxxHasVersion(ElfVersionNeedPatcher.MissingGlibcxxVersion))
        {
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low,
                "FederatedSharp.TorchSharp: system libstdc++ defines {0}; libLibTorchSharp.so left as shipped.",
                ElfVersionNeedPatcher.MissingGlibcxxVersion);
            return true;
        }

        foreach (var item in Files)
        {
            string path = item.ItemSpec;
            if (!File.Exists(path)) { continue; }
            ElfPatchOutcome outcome = ElfVersionNeedPatcher.PatchFile(path);
            if (outcome == ElfPatchOutcome.Patched)
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                    "FederatedSharp.TorchSharp: marked the {0} need of {1} weak, so it loads with this system's older libstdc++ (set FederatedSharpPatchLibTorchSharp=false to disable).",
                    ElfVersionNeedPatcher.MissingGlibcxxVersion, path);
            }
        }

        return true;
    }
}
#endif

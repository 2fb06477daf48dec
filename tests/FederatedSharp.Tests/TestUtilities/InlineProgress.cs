namespace FederatedSharp.Tests.TestUtilities;

/// <summary>An <see cref="IProgress{T}"/> that reports synchronously, on the reporting thread (unlike <see cref="Progress{T}"/>).</summary>
public sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

namespace FederatedSharp.Tests.TestUtilities;

/// <summary>Bounds every awaited task in a test, so a hang fails the test instead of the run.</summary>
public static class TaskExtensions
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static Task<T> WithTimeout<T>(this Task<T> task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? DefaultTimeout);

    public static Task WithTimeout(this Task task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? DefaultTimeout);
}

using Microsoft.Extensions.Logging;

namespace FederatedSharp.Grpc.Tests.TestUtilities;

/// <summary>Routes library logs to the NUnit progress output, so a failing network test shows what happened.</summary>
public static class TestLogging
{
    public static ILoggerFactory Factory { get; } = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(new ProgressProvider()));

    private sealed class ProgressProvider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new ProgressLogger(categoryName);

        public void Dispose()
        {
        }
    }

    private sealed class ProgressLogger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information && category.StartsWith("FederatedSharp", StringComparison.Ordinal);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                string line = $"[{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category.Split('.')[^1]}] {formatter(state, exception)}";
                TestContext.Progress.WriteLine(line);
                TestContext.Out.WriteLine(line);
            }
        }
    }
}

using System.Threading.Channels;
using FederatedSharp.Grpc.Client;
using Microsoft.Extensions.Logging;

namespace FederatedSharp.Grpc.Tests.TestUtilities;

/// <summary>A runner's logger that hands the test every "reconnecting in D s (attempt N)" event as it is logged, just before the runner waits.</summary>
public sealed class ReconnectionLog : ILogger<GrpcClientRunner>
{
    private readonly Channel<(double DelaySeconds, int Attempt)> _events = Channel.CreateUnbounded<(double, int)>();

    public ValueTask<(double DelaySeconds, int Attempt)> NextAsync(CancellationToken cancellationToken = default) => _events.Reader.ReadAsync(cancellationToken);

    public bool TryPeek(out (double DelaySeconds, int Attempt) next) => _events.Reader.TryPeek(out next);

    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => _events.Reader.WaitToReadAsync(cancellationToken);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Id == 206 && state is IReadOnlyList<KeyValuePair<string, object?>> fields)
        {
            double delay = fields.Where(f => f.Key == "Delay").Select(f => Convert.ToDouble(f.Value, System.Globalization.CultureInfo.InvariantCulture)).Single();
            int attempt = fields.Where(f => f.Key == "Attempt").Select(f => Convert.ToInt32(f.Value, System.Globalization.CultureInfo.InvariantCulture)).Single();
            _events.Writer.TryWrite((delay, attempt));
        }

        TestLogging.Factory.CreateLogger<GrpcClientRunner>().Log(logLevel, eventId, state, exception, formatter);
    }
}

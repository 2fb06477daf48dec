using System.Threading.Channels;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace FederatedSharp.Grpc.Tests.TestUtilities;

/// <summary>A server call context without a network, for driving the service handlers directly (fuzzing).</summary>
internal sealed class FakeCallContext : ServerCallContext
{
    private readonly Metadata _headers = new();
    private readonly CancellationToken _token;

    public FakeCallContext(CancellationToken token = default)
    {
        _token = token;
        UserState["__HttpContext"] = new DefaultHttpContext();
    }

    protected override string MethodCore => "fuzz";

    protected override string HostCore => "localhost";

    protected override string PeerCore => "ipv4:127.0.0.1:1";

    protected override DateTime DeadlineCore => DateTime.MaxValue;

    protected override Metadata RequestHeadersCore => _headers;

    protected override CancellationToken CancellationTokenCore => _token;

    protected override Metadata ResponseTrailersCore { get; } = new();

    protected override Status StatusCore { get; set; }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore => new(null, new Dictionary<string, List<AuthProperty>>());

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}

/// <summary>A request stream from a fixed list of messages.</summary>
internal sealed class ListReader<T>(IEnumerable<T> messages) : IAsyncStreamReader<T>
{
    private readonly IEnumerator<T> _items = messages.GetEnumerator();

    public T Current => _items.Current;

    public Task<bool> MoveNext(CancellationToken cancellationToken) => Task.FromResult(_items.MoveNext());
}

/// <summary>A request stream fed by the test (the session's client side).</summary>
internal sealed class ChannelReader<T> : IAsyncStreamReader<T>
{
    public Channel<T> Channel { get; } = System.Threading.Channels.Channel.CreateUnbounded<T>();

    public T Current { get; private set; } = default!;

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        if (await Channel.Reader.WaitToReadAsync(cancellationToken) && Channel.Reader.TryRead(out T? item))
        {
            Current = item;
            return true;
        }

        return false;
    }
}

/// <summary>A response stream the test reads.</summary>
internal sealed class ChannelWriter<T> : IServerStreamWriter<T>
{
    public Channel<T> Channel { get; } = System.Threading.Channels.Channel.CreateUnbounded<T>();

    public WriteOptions? WriteOptions { get; set; }

    public Task WriteAsync(T message) => Channel.Writer.WriteAsync(message).AsTask();

    public Task WriteAsync(T message, CancellationToken cancellationToken) => Channel.Writer.WriteAsync(message, cancellationToken).AsTask();
}

using FederatedSharp.Clients;
using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Grpc.Server;
using FederatedSharp.Grpc.Tests.TestUtilities;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Transport;
using Google.Protobuf;
using Grpc.Core;

namespace FederatedSharp.Grpc.Tests.Server;

/// <summary>
/// Tens of thousands of hostile uploads, generated from a fixed seed, straight into the service handler: random bytes,
/// bit flips, truncations, lying sizes, broken headers and config entries. Every one ends in an accepted result or a
/// refusal with a known gRPC status; nothing else escapes, no upload allocates more than the size limit allows, a bad
/// upload is never handed to the round loop, and the transport keeps serving.
/// </summary>
public class UploadReceiverFuzzTests
{
    private const int Inputs = 20_000;
    private const long MaxModelBytes = 64 * 1024;

    private static readonly StatusCode[] Expected =
        [StatusCode.InvalidArgument, StatusCode.FailedPrecondition, StatusCode.AlreadyExists, StatusCode.DeadlineExceeded, StatusCode.NotFound, StatusCode.PermissionDenied];

    [Test]
    public async Task UploadAsync_TwentyThousandHostileUploads_OnlyKnownStatusesAndServerKeepsServing()
    {
        await using var transport = new GrpcFederationTransport(new GrpcFederationOptions
        {
            AllowUnauthenticatedClients = true,
            MaxModelBytes = MaxModelBytes,
            MessageTimeout = TimeSpan.FromSeconds(5),
        });
        var serializer = new BinaryModelSerializer();
        using var stop = new CancellationTokenSource();
        var requests = new ChannelReader<ClientMessage>();
        var responses = new ChannelWriter<ServerMessage>();
        await requests.Channel.Writer.WriteAsync(new ClientMessage { Register = new Register { ClientId = "fuzz", ProtocolVersion = GrpcProtocol.Version } });
        Task session = transport.Sessions.RunSessionAsync(requests, responses, new FakeCallContext(stop.Token));
        await transport.WaitForClientsAsync(1).WithTimeout();
        IClientConnection connection = transport.GetConnection("fuzz");
        var layout = TensorLayout.Create(new TensorSpec("w", [4, 8]), new TensorSpec("b", [8]));
        using ModelParameters global = ModelParameters.Create(layout);
        byte[] valid = serializer.SerializeToArray(global);
        var random = new Random(20261127);
        var statuses = new Dictionary<StatusCode, int>();
        int accepted = 0, rejectedByRoundLoop = 0;
        long largestAllocation = 0;

        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < Inputs; i++)
        {
            if (i % 500 == 0)
            {
                requests.Channel.Writer.TryWrite(new ClientMessage { Heartbeat = new Heartbeat { Sequence = i } });
            }

            Task<FitResult> fit = connection.FitAsync(new FitInstructions(1, global, ConfigRecord.Empty));
            string taskId = await NextTaskIdAsync(responses);
            (List<UploadMessage> messages, bool wellFormed) = Generate(random, taskId, valid);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                await transport.Uploads.UploadAsync(new ListReader<UploadMessage>(messages), new FakeCallContext());
                Assert.That(wellFormed, Is.True, $"input {i} was accepted but is malformed");
                accepted++;
            }
            catch (RpcException ex)
            {
                Assert.That(Expected, Does.Contain(ex.StatusCode), $"input {i}: {ex.Status}");
                statuses[ex.StatusCode] = statuses.GetValueOrDefault(ex.StatusCode) + 1;
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            largestAllocation = i == 0 ? 0 : Math.Max(largestAllocation, allocated);
            if (!fit.IsCompleted)
            {
                // The upload never reached the task (unknown task id, or no header): the server's deadline ends it.
                requests.Channel.Writer.TryWrite(new ClientMessage { TaskError = new TaskError { TaskId = taskId, Message = "fuzz: give up" } });
            }

            try
            {
                using FitResult result = await fit.WithTimeout();
                Assert.That(result.Parameters.Layout, Is.EqualTo(layout), $"input {i}: a result the round loop receives is a well-formed model");
            }
            catch (ClientFailedException)
            {
                rejectedByRoundLoop++;
            }
        }

        TestContext.Progress.WriteLine($"{Inputs} hostile uploads: {accepted} accepted (well-formed), {rejectedByRoundLoop} failed tasks; statuses "
            + string.Join(", ", statuses.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}")) + $"; largest allocation on the handler thread {largestAllocation / 1024} KiB; {watch.Elapsed.TotalSeconds:0.0} s");
        Assert.Multiple(() =>
        {
            Assert.That(accepted + rejectedByRoundLoop, Is.EqualTo(Inputs));
            Assert.That(statuses.Values.Sum(), Is.GreaterThan(Inputs / 2), "most inputs are hostile");
            // Bytes allocated on the handler's thread per input (pooled read buffers, exceptions): a few MiB at most, where
            // trusting a lying header would allocate up to 8 GB (2^31 floats).
            Assert.That(largestAllocation, Is.LessThan(16 * 1024 * 1024), "no upload allocates for a model it was not sent");
            Assert.That(transport.GetAvailableClients(), Is.EqualTo(new[] { "fuzz" }), "the session survived");
        });

        // Still serving: a correct upload is accepted.
        Task<FitResult> last = connection.FitAsync(new FitInstructions(2, global, ConfigRecord.Empty));
        string id = await NextTaskIdAsync(responses);
        await transport.Uploads.UploadAsync(new ListReader<UploadMessage>([Header(id, valid.Length, 3), Chunk(valid)]), new FakeCallContext());
        using (FitResult ok = await last.WithTimeout())
        {
            Assert.That(ok.ExampleCount, Is.EqualTo(3));
        }

        requests.Channel.Writer.Complete();
        await session.WithTimeout();
    }

    private static async Task<string> NextTaskIdAsync(ChannelWriter<ServerMessage> responses)
    {
        while (true)
        {
            ServerMessage message = await responses.Channel.Reader.ReadAsync().AsTask().WithTimeout();
            if (message.KindCase == ServerMessage.KindOneofCase.Task)
            {
                return message.Task.TaskId;
            }
        }
    }

    private static UploadMessage Header(string taskId, long modelBytes, long examples, Config? metrics = null) =>
        new() { Header = new ResultHeader { TaskId = taskId, ModelBytes = modelBytes, ExampleCount = examples, Metrics = metrics } };

    private static UploadMessage Chunk(ReadOnlySpan<byte> bytes) => new() { Chunk = ByteString.CopyFrom(bytes) };

    private static List<UploadMessage> Chunks(string taskId, byte[] body, long announced, Random random)
    {
        var messages = new List<UploadMessage> { Header(taskId, announced, random.Next(0, 100)) };
        for (int offset = 0; offset < body.Length;)
        {
            int n = Math.Min(body.Length - offset, random.Next(1, 200));
            messages.Add(Chunk(body.AsSpan(offset, n)));
            offset += n;
        }

        return messages;
    }

    /// <summary>One hostile (or, rarely, well-formed) upload and whether it is well-formed.</summary>
    private static (List<UploadMessage> Messages, bool WellFormed) Generate(Random random, string taskId, byte[] valid)
    {
        switch (random.Next(10))
        {
            case 0:
                return (Chunks(taskId, valid, valid.Length, random), true);
            case 1:
            {
                byte[] flipped = (byte[])valid.Clone();
                for (int k = random.Next(1, 4); k > 0; k--)
                {
                    flipped[random.Next(flipped.Length)] ^= (byte)(1 << random.Next(8));
                }

                return (Chunks(taskId, flipped, flipped.Length, random), false);
            }

            case 2:
            {
                byte[] truncated = valid[..random.Next(valid.Length)];
                return (Chunks(taskId, truncated, random.Next(2) == 0 ? truncated.Length : valid.Length, random), false);
            }

            case 3:
            {
                long[] lies = [valid.Length - 1, valid.Length + 1, 0, -5, MaxModelBytes + 1, long.MaxValue, 2L << 30];
                return (Chunks(taskId, valid, lies[random.Next(lies.Length)], random), false);
            }

            case 4:
            {
                byte[] noise = new byte[random.Next(0, 3000)];
                random.NextBytes(noise);
                if (noise.Length >= 4 && random.Next(2) == 0)
                {
                    "FSMP"u8.CopyTo(noise);
                }

                return (Chunks(taskId, noise, noise.Length, random), false);
            }

            case 5:
            {
                // A header that claims a huge tensor, then nothing.
                byte[] lying = (byte[])valid.Clone();
                int offset = random.Next(8, Math.Min(lying.Length, 64) - 4);
                BitConverter.TryWriteBytes(lying.AsSpan(offset, 4), random.Next(int.MaxValue / 2, int.MaxValue));
                return (Chunks(taskId, lying, lying.Length, random), false);
            }

            case 6:
            {
                var metrics = new Config();
                metrics.Entries["broken"] = new ConfigEntry();
                return ([Header(taskId, valid.Length, 1, metrics), Chunk(valid)], false);
            }

            case 7:
                return ([Chunk(valid), Header(taskId, valid.Length, 1)], false);
            case 8:
            {
                string id = random.Next(3) switch { 0 => "", 1 => new string((char)random.Next(0x20, 0xD7FF), random.Next(1, 300)), _ => Guid.NewGuid().ToString("N") };
                return ([Header(id, valid.Length, 1), Chunk(valid)], false);
            }

            default:
            {
                var messages = Chunks(taskId, valid, valid.Length, random);
                messages.Insert(random.Next(1, messages.Count + 1), Header(taskId, valid.Length, 1));
                return (messages, false);
            }
        }
    }
}

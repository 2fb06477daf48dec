using FederatedSharp.Cli.Tests.TestUtilities;

namespace FederatedSharp.Cli.Tests.Commands;

/// <summary><c>fedsharp coordinator run</c> as a real process.</summary>
public sealed class CoordinatorCommandsTests
{
    [Test]
    public async Task Run_Sigterm_StopsTheCoordinatorAndExits()
    {
        string home = Path.Combine(Path.GetTempPath(), "fedsharp-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (FedsharpProcess init = FedsharpProcess.Start("coordinator", "--home", home, "init", "--admin", "alice"))
            {
                Assert.That(await init.WaitForExitAsync(TimeSpan.FromMinutes(1)), Is.Zero, init.Output);
            }

            int port = FedsharpProcess.FreePort();
            using FedsharpProcess run = FedsharpProcess.Start("coordinator", "--home", home, "run", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await run.WaitForAsync("dashboard: https://localhost:" + port + "/dashboard", TimeSpan.FromMinutes(1));

            run.Terminate();

            Assert.That(await run.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.Zero, "SIGTERM stops the coordinator:\n" + run.Output);
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            Assert.DoesNotThrow(listener.Start, "the port is free again");
            listener.Stop();
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}

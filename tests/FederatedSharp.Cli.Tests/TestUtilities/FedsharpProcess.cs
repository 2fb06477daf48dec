using System.Collections.Concurrent;
using System.Diagnostics;

namespace FederatedSharp.Cli.Tests.TestUtilities;

/// <summary>A <c>fedsharp</c> process (the built tool, run with dotnet) whose output lines the test can wait for.</summary>
internal sealed class FedsharpProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly SemaphoreSlim _line = new(0);

    private FedsharpProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output => string.Join(Environment.NewLine, _lines);

    public bool HasExited => _process.HasExited;

    public static FedsharpProcess Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "fedsharp.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return new FedsharpProcess(Process.Start(start)!);
    }

    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until a line contains <paramref name="text"/>; fails with the output so far on timeout or exit.</summary>
    public async Task WaitForAsync(string text, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!_lines.Any(l => l.Contains(text, StringComparison.Ordinal)))
        {
            if (_process.HasExited && _line.CurrentCount == 0)
            {
                Assert.Fail($"the process exited ({_process.ExitCode}) before printing '{text}':\n{Output}");
            }

            try
            {
                await _line.WaitAsync(TimeSpan.FromMilliseconds(200), cts.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"no line with '{text}' within {timeout}:\n{Output}");
            }
        }
    }

    /// <summary>Sends SIGTERM, as a service manager or a container runtime stops a process.</summary>
    public void Terminate()
    {
        if (kill(_process.Id, 15) != 0)
        {
            Assert.Fail($"kill({_process.Id}, SIGTERM) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
        _line.Dispose();
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    private void Add(string? line)
    {
        if (line is not null)
        {
            _lines.Enqueue(line);
            _line.Release();
        }
    }
}

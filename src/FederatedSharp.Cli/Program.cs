using System.Runtime.InteropServices;
using FederatedSharp.Cli;

// Ctrl+C and SIGTERM (a service manager, a container runtime) stop long-running commands such as `coordinator run`
// and `node run` gracefully: the command's cancellation token fires, the command shuts down and the exit code is 0.
using var stop = new CancellationTokenSource();
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
return await FedsharpCli.RunAsync(args, Console.Out, Console.Error, TimeProvider.System, stop.Token).ConfigureAwait(false);

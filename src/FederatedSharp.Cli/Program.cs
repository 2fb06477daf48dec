using FederatedSharp.Cli;

return await FedsharpCli.RunAsync(args, Console.Out, Console.Error, TimeProvider.System).ConfigureAwait(false);

namespace FederatedSharp.Grpc.Hosting;

/// <summary>Settings of the hosted federation services (<see cref="FederatedServerHostedService"/>, <see cref="FederatedGrpcClientHostedService"/>).</summary>
public sealed class FederationHostingOptions
{
    /// <summary>
    /// Stop the application when the federation ends (the server's run returns, or the server tells the client the
    /// federation is over); default true, so a federation process exits like a job. Set false to keep serving, for
    /// example a dashboard or health endpoint next to it.
    /// </summary>
    public bool StopApplicationWhenDone { get; set; } = true;
}

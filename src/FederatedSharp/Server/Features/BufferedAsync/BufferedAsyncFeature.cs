using FederatedSharp.Aggregation;
using FederatedSharp.Server.Engine;

namespace FederatedSharp.Server.Features.BufferedAsync;

/// <summary>Replaces synchronous rounds with FedBuff's buffered asynchronous rounds, and adds its re-base stage.</summary>
internal sealed class BufferedAsyncFeature(BufferedAsyncOptions options) : FederationFeature
{
    public override string Name => "buffered asynchronous aggregation (FedBuff)";

    private readonly BufferedAsyncRounds _driver = new(options);

    public override void OnBuild(FeatureBuildContext context)
    {
        options.Validate();
        context.UseDriver(_driver, Name);
        context.AddUpdateStage(new FedBuffRebaseStage(_driver));
    }

    public override AggregatorState? ExportState(FederationContext context) => _driver.ExportState(context);

    public override void ImportState(FederationContext context, AggregatorState state) => _driver.ImportState(context, state);
}

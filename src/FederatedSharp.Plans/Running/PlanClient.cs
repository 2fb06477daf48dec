using FederatedSharp.Analytics;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Plans.Model;
using FederatedSharp.TorchSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.Plans;

/// <summary>
/// A site's <see cref="IClient"/> compiled from a plan: it checks and splits the site's table when it is created
/// (so a schema mismatch is reported before any training), answers the federated statistics query that federated
/// standardisation needs over its training rows, and trains and evaluates with a <see cref="TorchTrainerClient"/> built
/// from the plan. The same plan and table give the same client in a simulation and on a node.
/// </summary>
public sealed class PlanClient : IClient, IDisposable
{
    /// <summary>The configuration key carrying the plan's hash: a task for another plan is refused.</summary>
    public const string PlanHashKey = "plan.hash";

    private readonly SiteData _data;
    private readonly AnalyticsSite _analytics;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private TorchTrainerClient? _trainer;
    private ISeededModule[] _seeded = [];
    private FeatureScaling? _scaling;
    private ModelParameters? _local;
    private bool _disposed;

    /// <summary>Creates the client.</summary>
    /// <param name="plan">The approved plan.</param>
    /// <param name="site">The site's name (it seeds the site's batch order, split and dropout).</param>
    /// <param name="table">The site's table; it never leaves the site.</param>
    /// <param name="policy">The site's disclosure policy for the statistics query (default: <see cref="DisclosurePolicy"/>'s defaults).</param>
    /// <exception cref="PlanDataException">The table does not fit the plan.</exception>
    public PlanClient(TrainingPlan plan, string site, TabularDataset table, DisclosurePolicy? policy = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentException.ThrowIfNullOrEmpty(site);
        Plan = plan;
        Site = site;
        _data = SiteData.Prepare(plan, table, site);
        _analytics = new AnalyticsSite(_data.Train, policy);
    }

    /// <summary>The plan.</summary>
    public TrainingPlan Plan { get; }

    /// <summary>The site's name.</summary>
    public string Site { get; }

    /// <summary>The training rows after the plan's split and missing-value rule.</summary>
    public int TrainCount => _data.Train.RowCount;

    /// <summary>The test rows (0 when the plan holds out none).</summary>
    public int TestCount => _data.Test?.RowCount ?? 0;

    /// <summary>The standardisation in use, once the first task has fixed it; null before that or without standardisation.</summary>
    public FeatureScaling? Scaling => _scaling;

    /// <inheritdoc />
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var properties = new ConfigRecord
        {
            ["train_examples"] = (long)TrainCount,
            ["test_examples"] = (long)TestCount,
            [PlanHashKey] = Plan.Hash,
            ["framework"] = "TorchSharp",
        };
        return Task.FromResult(properties.Freeze());
    }

    /// <inheritdoc />
    public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            TorchTrainerClient trainer = Prepare(instructions.Config);
            ulong seed = DeterministicRandom.Mix(PlanCompiler.SiteSeed(Plan, Site), (ulong)instructions.Round, 0xD80);
            foreach (ISeededModule module in _seeded)
            {
                module.Reseed(seed++);
            }

            FitResult result = await trainer.FitAsync(instructions, cancellationToken).ConfigureAwait(false);
            if (Plan.Federation.CrossSiteEvaluation)
            {
                // The plan shares this site's locally trained model for cross-site evaluation: keep the last one.
                _local?.Dispose();
                _local = result.Parameters.Clone();
            }

            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await Prepare(instructions.Config).EvaluateAsync(instructions, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public Task<QueryResult> QueryAsync(QueryInstructions instructions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (instructions.Name == CrossSiteQueries.LocalModel)
        {
            return LocalModelAsync(cancellationToken);
        }

        return AnalyticsSite.Answers(instructions.Name)
            ? _analytics.AnswerAsync(instructions, cancellationToken)
            : Task.FromException<QueryResult>(new UnsupportedTaskException("query:" + instructions.Name));
    }

    // This site's last locally trained model, only when the plan (which the site approved) asks for cross-site evaluation.
    private async Task<QueryResult> LocalModelAsync(CancellationToken cancellationToken)
    {
        if (!Plan.Federation.CrossSiteEvaluation)
        {
            throw new PlanDataException("The plan does not ask for cross-site evaluation, so this site does not share its local model.");
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _local is null
                ? throw new PlanDataException("This site has not trained a local model yet (no fit has run).")
                : new QueryResult(ConfigRecord.Empty, _local.Clone());
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Releases the trainer, its module and tensors.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _local?.Dispose();
        _trainer?.Dispose();
        _gate.Dispose();
    }

    // Builds the trainer on the first task, once the standardisation is known; later tasks must agree with it.
    private TorchTrainerClient Prepare(ConfigRecord config)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (config.TryGetValue(PlanHashKey, out ConfigValue hash) && hash.AsString() != Plan.Hash)
        {
            throw new InvalidOperationException($"This site runs plan {Plan.Hash[..12]}, but the task is for plan {hash.AsString()[..Math.Min(12, hash.AsString().Length)]}.");
        }

        FeatureScaling? scaling = Plan.Data.Standardize switch
        {
            Standardization.Site => _scaling ?? FeatureScaling.Fit(Plan.Data.StandardizeColumns, c => _data.Train.Column(c).ToArray()),
            Standardization.Federated => FeatureScaling.ReadFrom(Plan.Data.StandardizeColumns, config),
            _ => null,
        };
        if (_trainer is not null)
        {
            if (scaling is not null && !scaling.SameAs(_scaling!))
            {
                throw new PlanDataException("The server changed the federated standardisation in the middle of a run.");
            }

            return _trainer;
        }

        TorchDataSet train = SiteData.ToTorch(Plan, _data.Train, scaling);
        TorchDataSet? test = _data.Test is null ? null : SiteData.ToTorch(Plan, _data.Test, scaling);
        TorchTrainerOptions options = PlanCompiler.CreateTrainerOptions(Plan, Site, train, test);
        _seeded = options.Module!.modules().OfType<ISeededModule>().ToArray();
        _trainer = new TorchTrainerClient(options);
        _scaling = scaling;
        return _trainer;
    }
}

using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Training;

/// <summary>Evaluation of personalised models: the site's own model on its own test split, reported as <c>personal_*</c>.</summary>
public sealed partial class TorchTrainerClient
{
    /// <summary>The prefix of the personalised model's evaluation metrics (<c>personal_loss</c>, <c>personal_accuracy</c>...).</summary>
    public const string PersonalMetricPrefix = "personal_";

    private EvaluateResult EvaluatePersonalised(EvaluateInstructions instructions)
    {
        PersonalizationMethod method = _options.Personalization?.Method ?? PersonalizationMethod.None;
        if (method == PersonalizationMethod.None)
        {
            return Evaluate(instructions.Parameters);
        }

        if (method == PersonalizationMethod.FineTune)
        {
            // The global model as it is, then FineTuneSteps local steps from it: the baseline every method must beat.
            EvaluateResult global = Evaluate(instructions.Parameters);
            var config = new ConfigRecord { [ConfigKeys.LocalSteps] = (long)_options.Personalization!.FineTuneSteps };
            using FitResult tuned = Fit(new FitInstructions(instructions.Round, instructions.Parameters, config.Freeze()), CancellationToken.None);
            return WithPersonal(global, Evaluate(tuned.Parameters), keepGlobal: true);
        }

        if (method == PersonalizationMethod.Ditto)
        {
            // The global model w as it is, and the site's personal model v.
            EvaluateResult global = Evaluate(instructions.Parameters);
            LoadDitto(instructions.State);
            return WithPersonal(global, EvaluateLoaded(_options.Test ?? _options.Train!), keepGlobal: true);
        }

        // FedPer, FedBN, FedRep: the global model has no personal tensors of its own; the site's complete it.
        _adapter.CopyFrom(instructions.Parameters);
        _personal!.Restore(instructions.State);
        EvaluateResult personal = EvaluateLoaded(_options.Test ?? _options.Train!);
        return WithPersonal(personal, personal, keepGlobal: true);
    }

    private static EvaluateResult WithPersonal(EvaluateResult global, EvaluateResult personal, bool keepGlobal)
    {
        var metrics = keepGlobal ? global.Metrics.Copy() : new ConfigRecord();
        metrics[PersonalMetricPrefix + "loss"] = personal.Loss;
        foreach ((string name, ConfigValue value) in personal.Metrics)
        {
            metrics[PersonalMetricPrefix + name] = value;
        }

        return new EvaluateResult(global.Loss, global.ExampleCount, metrics.Freeze());
    }

    private const string DittoKey = "ditto/personal";

    // FedRep trains the body in the main phase (the head is frozen); every other method trains the whole module.
    private Parameter[] MainPhaseParameters(Parameter[] all) =>
        _options.Personalization?.Method == PersonalizationMethod.FedRep ? Named(all, personal: false) : all;

    // FedRep's first phase: the head for HeadEpochs epochs with the body frozen (its own batch order).
    private double TrainPersonalHead(LocalRun run)
    {
        if (_options.Personalization is not { Method: PersonalizationMethod.FedRep } personalization)
        {
            return 0;
        }

        long steps = (long)personalization.HeadEpochs * ((_options.Train!.Count + run.BatchSize - 1) / run.BatchSize);
        return RunSteps(run, Named(_module.parameters().ToArray(), personal: true), steps, salt: 0xFE);
    }

    // The module's parameters that are (or are not) personal, in module order.
    private Parameter[] Named(Parameter[] all, bool personal)
    {
        var names = _module.named_parameters().Select(p => p.name).ToArray();
        return all.Where((_, i) => _personal!.ParameterNames.Contains(names[i]) == personal).ToArray();
    }

    // Ditto: after the global model's local training (already in the result), the personal model v trains from its last
    // value (the received global model the first time) with lambda/2 ||v - w||^2 towards the received global w.
    private void TrainDittoPersonal(FitInstructions instructions, LocalRun run, long steps)
    {
        if (_options.Personalization is not { Method: PersonalizationMethod.Ditto } personalization)
        {
            return;
        }

        using var scope = torch.NewDisposeScope();
        _adapter.CopyFrom(instructions.Parameters);
        Parameter[] parameters = _module.parameters().ToArray();
        Tensor[] global = parameters.Select(p => p.detach().clone()).ToArray();
        LoadDitto(instructions.State);
        RunSteps(run with { Mu = personalization.DittoLambda, Anchors = global, Corrections = null }, parameters, steps, salt: 0xD1);
        using ModelParameters personal = _adapter.ToParameters();
        _dittoPersonal = personal.Values.ToArray();
        instructions.State?.SetFloats(DittoKey, _dittoPersonal);
    }

    // Loads the site's Ditto model: from the state, else the copy in memory, else leaves the module (the global model) as it is.
    private void LoadDitto(ClientState? state)
    {
        float[]? values = state?.GetFloats(DittoKey) ?? _dittoPersonal;
        if (values is null)
        {
            return;
        }

        using ModelParameters personal = ModelParameters.FromValues(_adapter.Layout, values);
        _adapter.CopyFrom(personal);
    }
}

using FederatedSharp.Clients;

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

        // FedPer, FedBN: the global model has no personal tensors of its own; the site's complete it.
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
}

using System.Text.Json;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Plans.Json;
using FederatedSharp.Plans.Model;

namespace FederatedSharp.Plans;

/// <summary>Reads a plan document section by section, collecting every problem with its path, then checks the sections against each other.</summary>
internal static class PlanParser
{
    internal static readonly Dictionary<string, LossKind> Losses = new(StringComparer.Ordinal)
    {
        ["bce"] = LossKind.BinaryCrossEntropy,
        ["bce_with_logits"] = LossKind.BinaryCrossEntropyWithLogits,
        ["cross_entropy"] = LossKind.CrossEntropy,
        ["mse"] = LossKind.MeanSquaredError,
        ["cox"] = LossKind.CoxPartialLikelihood,
    };

    internal static readonly Dictionary<string, OptimizerKind> Optimizers = new(StringComparer.Ordinal)
    {
        ["sgd"] = OptimizerKind.Sgd,
        ["adam"] = OptimizerKind.Adam,
        ["adamw"] = OptimizerKind.AdamW,
    };

    public static TrainingPlan Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            throw new PlanValidationException("$", $"not valid JSON: {e.Message}");
        }

        using (document)
        {
            var errors = new List<PlanError>();
            PlanSections? sections = Read(document.RootElement, errors);
            if (errors.Count > 0 || sections is null)
            {
                throw new PlanValidationException(errors.Count > 0 ? errors : [new PlanError("$", "the plan is incomplete")]);
            }

            return new TrainingPlan(sections);
        }
    }

    private static PlanSections? Read(JsonElement root, List<PlanError> errors)
    {
        if (PlanObject.From(root, "$", errors) is not { } plan)
        {
            return null;
        }

        string? format = plan.String("format", required: true);
        if (format is not null && format != TrainingPlan.CurrentFormat)
        {
            plan.Error("format", $"'{format}' is not a format this version reads; it reads '{TrainingPlan.CurrentFormat}'");
        }

        string? name = plan.String("name", required: true);
        string version = plan.String("version") ?? "1";
        string description = plan.String("description") ?? "";
        double? seed = plan.Number("seed", min: 0, max: 9007199254740991);
        if (seed is double s && s != Math.Floor(s))
        {
            plan.Error("seed", "must be a whole number");
        }

        DataSpec? data = plan.Object("data", required: true) is { } d ? DataSpecReader.Read(d) : null;
        BlockSpec? model = plan.Object("model", required: true) is { } m ? ReadModel(m) : null;
        LossKind? loss = plan.Object("loss", required: true) is { } l ? ReadLoss(l) : null;
        OptimizerSpec? optimizer = plan.Object("optimizer", required: true) is { } o ? ReadOptimizer(o) : null;
        TrainingSpec training = plan.Object("training") is { } t ? ReadTraining(t) : new TrainingSpec();
        IReadOnlyList<string> metrics = plan.Strings("metrics") ?? [];
        FederationSpec? federation = plan.Object("federation", required: true) is { } f ? ReadFederation(f) : null;
        PrivacySpec privacy = plan.Object("privacy") is { } p ? ReadPrivacy(p) : new PrivacySpec();
        plan.RejectUnknown();
        if (name is null || data is null || model is null || loss is null || optimizer is null || federation is null)
        {
            return null;
        }

        int[]? output = PlanChecks.Check(data, model, loss.Value, metrics, privacy, errors);
        return output is null
            ? null
            : new PlanSections(name, version, description, (ulong)(seed ?? 0), data, model, output, loss.Value, optimizer, training, metrics, federation, privacy);
    }

    private static BlockSpec? ReadModel(PlanObject model)
    {
        if (model.Array("layers", required: true, nonEmpty: true) is not { } items)
        {
            return null;
        }

        var layers = items.Select(i => LayerCatalog.Read(i.Item, i.Path, model.Errors)).ToArray();
        model.RejectUnknown();
        if (layers.Any(l => l is null))
        {
            return null;
        }

        var names = layers.Select((l, i) => l!.Name ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1)?.Key is { } duplicate)
        {
            model.Error("layers", $"two layers are both named '{duplicate}'");
            return null;
        }

        return new BlockSpec(residual: false, layers!);
    }

    private static LossKind? ReadLoss(PlanObject loss)
    {
        string? type = loss.String("type", required: true, allowed: Losses.Keys);
        loss.RejectUnknown();
        return type is null ? null : Losses[type];
    }

    private static OptimizerSpec? ReadOptimizer(PlanObject o)
    {
        string? type = o.String("type", required: true, allowed: Optimizers.Keys);
        double? rate = o.Number("learningRate", min: 0, minExclusive: true, required: true);
        OptimizerKind kind = type is null ? OptimizerKind.Sgd : Optimizers[type];
        var spec = new OptimizerSpec
        {
            Kind = kind,
            LearningRate = rate ?? 0,
            Momentum = kind == OptimizerKind.Sgd ? o.Number("momentum", min: 0, max: 1, maxExclusive: true) ?? 0 : 0,
            Nesterov = kind == OptimizerKind.Sgd && (o.Boolean("nesterov") ?? false),
            WeightDecay = o.Number("weightDecay", min: 0) ?? (kind == OptimizerKind.AdamW ? 0.01 : 0),
            Beta1 = kind != OptimizerKind.Sgd ? o.Number("beta1", min: 0, max: 1, maxExclusive: true) ?? 0.9 : 0.9,
            Beta2 = kind != OptimizerKind.Sgd ? o.Number("beta2", min: 0, max: 1, maxExclusive: true) ?? 0.999 : 0.999,
            Epsilon = kind != OptimizerKind.Sgd ? o.Number("epsilon", min: 0, minExclusive: true) ?? 1e-8 : 1e-8,
        };
        if (spec.Nesterov && spec.Momentum == 0)
        {
            o.Error("nesterov", "Nesterov momentum needs a momentum > 0");
        }

        o.RejectUnknown();
        return type is null || rate is null ? null : spec;
    }

    private static TrainingSpec ReadTraining(PlanObject o)
    {
        int? steps = o.Integer("localSteps", min: 1);
        int? epochs = o.Integer("localEpochs", min: 1);
        if (steps is not null && epochs is not null)
        {
            o.Error("localEpochs", "give either localSteps or localEpochs, not both");
        }

        var spec = new TrainingSpec { BatchSize = o.Integer("batchSize", min: 1) ?? 32, LocalSteps = steps, LocalEpochs = epochs ?? 1 };
        o.RejectUnknown();
        return spec;
    }

    private static FederationSpec? ReadFederation(PlanObject o)
    {
        string? strategy = o.String("strategy", required: true);
        ConfigRecord hyperparameters = o.Object("hyperparameters") is { } h ? ReadHyperparameters(h) : new ConfigRecord();
        int? rounds = o.Integer("rounds", min: 1, required: true);
        var spec = new FederationSpec
        {
            Strategy = strategy?.ToLowerInvariant() ?? "",
            Hyperparameters = hyperparameters.Freeze(),
            Rounds = rounds ?? 0,
            MinClients = o.Integer("minClients", min: 1) ?? 1,
            FractionFit = o.Number("fractionFit", min: 0, max: 1, minExclusive: true) ?? 1,
            FractionEvaluate = o.Number("fractionEvaluate", min: 0, max: 1) ?? 1,
            CrossSiteEvaluation = o.Boolean("crossSiteEvaluation") ?? false,
        };
        if (strategy is not null)
        {
            try
            {
                _ = Aggregators.Create(strategy, hyperparameters);
            }
            catch (ArgumentException e)
            {
                o.Error(e.ParamName == "name" ? "strategy" : "hyperparameters", e.Message.Split(" (Parameter")[0]);
            }
        }

        o.RejectUnknown();
        return strategy is null || rounds is null ? null : spec;
    }

    private static ConfigRecord ReadHyperparameters(PlanObject o)
    {
        var record = new ConfigRecord();
        foreach (string key in o.Keys())
        {
            switch (o.Raw(key))
            {
                case { ValueKind: JsonValueKind.Number } n when n.TryGetInt64(out long whole):
                    record[key] = whole;
                    break;
                case { ValueKind: JsonValueKind.Number } n when n.TryGetDouble(out double number) && double.IsFinite(number):
                    record[key] = number;
                    break;
                case { ValueKind: JsonValueKind.True or JsonValueKind.False } b:
                    record[key] = b.GetBoolean();
                    break;
                case { } other:
                    o.Error(key, $"a hyperparameter must be a number or true/false, not {PlanObject.Kind(other)}");
                    break;
            }
        }

        return record;
    }

    private static PrivacySpec ReadPrivacy(PlanObject o)
    {
        DpSgdSpec? dpSgd = o.Object("dpSgd") is { } d ? ReadDpSgd(d) : null;
        CentralDpSpec? central = o.Object("centralDp") is { } c ? ReadCentralDp(c) : null;
        if (dpSgd is not null && central is not null)
        {
            o.Error("centralDp", "a plan uses either example-level DP-SGD or client-level central DP, not both");
        }

        o.RejectUnknown();
        return new PrivacySpec { DpSgd = dpSgd, CentralDp = central };
    }

    private static DpSgdSpec ReadDpSgd(PlanObject d)
    {
        var spec = new DpSgdSpec
        {
            MaxGradNorm = d.Number("maxGradNorm", min: 0, minExclusive: true, required: true) ?? 1,
            NoiseMultiplier = d.Number("noiseMultiplier", min: 0, required: true) ?? 0,
            Delta = d.Number("delta", min: 0, max: 1, minExclusive: true, maxExclusive: true) ?? 1e-5,
        };
        d.RejectUnknown();
        return spec;
    }

    private static CentralDpSpec ReadCentralDp(PlanObject c)
    {
        var spec = new CentralDpSpec
        {
            NoiseMultiplier = c.Number("noiseMultiplier", min: 0, required: true) ?? 0,
            ClipNorm = c.Number("clipNorm", min: 0, minExclusive: true, required: true) ?? 1,
            Delta = c.Number("delta", min: 0, max: 1, minExclusive: true, maxExclusive: true) ?? 1e-5,
        };
        c.RejectUnknown();
        return spec;
    }
}

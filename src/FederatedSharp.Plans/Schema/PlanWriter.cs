using System.Text;
using System.Text.Json;
using FederatedSharp.Clients;

namespace FederatedSharp.Plans;

/// <summary>Writes a plan with every default spelt out: the form its hash is taken of.</summary>
internal static class PlanWriter
{
    public static string Write(TrainingPlan plan, bool indented)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented }))
        {
            w.WriteStartObject();
            w.WriteString("format", TrainingPlan.CurrentFormat);
            w.WriteString("name", plan.Name);
            w.WriteString("version", plan.Version);
            w.WriteString("description", plan.Description);
            w.WriteNumber("seed", plan.Seed);
            WriteData(w, plan.Data);
            w.WriteStartObject("model");
            plan.Model.WriteProperties(w);
            w.WriteEndObject();
            w.WriteStartObject("loss");
            w.WriteString("type", PlanChecks.Name(plan.Loss));
            w.WriteEndObject();
            WriteOptimizer(w, plan.Optimizer);
            w.WriteStartObject("training");
            w.WriteNumber("batchSize", plan.Training.BatchSize);
            if (plan.Training.LocalSteps is int steps)
            {
                w.WriteNumber("localSteps", steps);
            }
            else
            {
                w.WriteNumber("localEpochs", plan.Training.LocalEpochs);
            }

            w.WriteEndObject();
            WriteStrings(w, "metrics", plan.Metrics);
            WriteFederation(w, plan.Federation);
            WritePrivacy(w, plan.Privacy);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteData(Utf8JsonWriter w, DataSpec data)
    {
        w.WriteStartObject("data");
        WriteStrings(w, "features", data.Features);
        w.WriteStartArray("featureShape");
        foreach (int size in data.FeatureShape)
        {
            w.WriteNumberValue(size);
        }

        w.WriteEndArray();
        w.WriteStartObject("label");
        w.WriteString("task", data.Label.Task.ToString().ToLowerInvariant());
        if (data.Label.Task == LabelTask.Survival)
        {
            w.WriteString("time", data.Label.TimeColumn);
            w.WriteString("event", data.Label.EventColumn);
        }
        else
        {
            w.WriteString("column", data.Label.Column);
        }

        if (data.Label.Classes is int classes)
        {
            w.WriteNumber("classes", classes);
        }

        w.WriteEndObject();
        w.WriteStartObject("split");
        if (data.SplitColumn is not null)
        {
            w.WriteString("column", data.SplitColumn);
        }
        else
        {
            w.WriteNumber("testFraction", data.TestFraction);
        }

        w.WriteEndObject();
        w.WriteString("missingValues", data.DropMissingRows ? "drop_rows" : "error");
        w.WriteStartObject("standardize");
        w.WriteString("method", data.Standardize.ToString().ToLowerInvariant());
        if (data.Standardize != Standardization.None)
        {
            WriteStrings(w, "columns", data.StandardizeColumns);
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteOptimizer(Utf8JsonWriter w, OptimizerSpec o)
    {
        w.WriteStartObject("optimizer");
        w.WriteString("type", PlanParser.Optimizers.First(p => p.Value == o.Kind).Key);
        w.WriteNumber("learningRate", o.LearningRate);
        if (o.Kind == OptimizerKind.Sgd)
        {
            w.WriteNumber("momentum", o.Momentum);
            w.WriteBoolean("nesterov", o.Nesterov);
        }
        else
        {
            w.WriteNumber("beta1", o.Beta1);
            w.WriteNumber("beta2", o.Beta2);
            w.WriteNumber("epsilon", o.Epsilon);
        }

        w.WriteNumber("weightDecay", o.WeightDecay);
        w.WriteEndObject();
    }

    private static void WriteFederation(Utf8JsonWriter w, FederationSpec f)
    {
        w.WriteStartObject("federation");
        w.WriteString("strategy", f.Strategy);
        w.WriteStartObject("hyperparameters");
        foreach ((string key, ConfigValue value) in f.Hyperparameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            switch (value.Kind)
            {
                case ConfigValueKind.Boolean:
                    w.WriteBoolean(key, value.AsBoolean());
                    break;
                case ConfigValueKind.Int64:
                    w.WriteNumber(key, value.AsInt64());
                    break;
                default:
                    w.WriteNumber(key, value.AsDouble());
                    break;
            }
        }

        w.WriteEndObject();
        w.WriteNumber("rounds", f.Rounds);
        w.WriteNumber("minClients", f.MinClients);
        w.WriteNumber("fractionFit", f.FractionFit);
        w.WriteNumber("fractionEvaluate", f.FractionEvaluate);
        w.WriteBoolean("crossSiteEvaluation", f.CrossSiteEvaluation);
        w.WriteEndObject();
    }

    private static void WritePrivacy(Utf8JsonWriter w, PrivacySpec p)
    {
        w.WriteStartObject("privacy");
        if (p.DpSgd is { } dp)
        {
            w.WriteStartObject("dpSgd");
            w.WriteNumber("maxGradNorm", dp.MaxGradNorm);
            w.WriteNumber("noiseMultiplier", dp.NoiseMultiplier);
            w.WriteNumber("delta", dp.Delta);
            w.WriteEndObject();
        }

        if (p.CentralDp is { } central)
        {
            w.WriteStartObject("centralDp");
            w.WriteNumber("noiseMultiplier", central.NoiseMultiplier);
            w.WriteNumber("clipNorm", central.ClipNorm);
            w.WriteNumber("delta", central.Delta);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (string value in values)
        {
            w.WriteStringValue(value);
        }

        w.WriteEndArray();
    }
}

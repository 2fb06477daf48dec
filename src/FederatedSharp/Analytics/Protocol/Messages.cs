using System.Text.Json.Serialization;

namespace FederatedSharp.Analytics;

// The JSON documents exchanged by analytics queries. A withheld value is null: it never leaves the site.
internal sealed class StatisticsQuery
{
    public List<string> Features { get; set; } = new();

    public bool Summary { get; set; } = true;

    public bool Covariance { get; set; }

    public Dictionary<string, double[]>? Histograms { get; set; }
}

internal sealed class StatisticsReply
{
    public List<FeatureReply> Features { get; set; } = new();

    public CovarianceReply? Covariance { get; set; }
}

internal sealed class FeatureReply
{
    public string Name { get; set; } = string.Empty;

    public double? Count { get; set; }

    public double? Missing { get; set; }

    public double? Sum { get; set; }

    public double? M2 { get; set; }

    public double? Min { get; set; }

    public double? Max { get; set; }

    public HistogramReply? Histogram { get; set; }
}

internal sealed class HistogramReply
{
    public double[] Edges { get; set; } = Array.Empty<double>();

    public double?[] Counts { get; set; } = Array.Empty<double?>();

    public double? Below { get; set; }

    public double? Above { get; set; }
}

internal sealed class CovarianceReply
{
    public List<string> Features { get; set; } = new();

    public double Count { get; set; }

    public double[] Means { get; set; } = Array.Empty<double>();

    public double[] Comoments { get; set; } = Array.Empty<double>();
}

internal sealed class SurvivalQuery
{
    public string Time { get; set; } = string.Empty;

    public string Event { get; set; } = string.Empty;

    public string? GroupBy { get; set; }

    public double[]? Groups { get; set; }

    public double[]? Edges { get; set; }
}

internal sealed class SurvivalReply
{
    public List<SurvivalGroupReply> Groups { get; set; } = new();
}

internal sealed class SurvivalGroupReply
{
    public double? Group { get; set; }

    public double? Count { get; set; }

    public double[] Times { get; set; } = Array.Empty<double>();

    public double[] Events { get; set; } = Array.Empty<double>();

    public double[] Censored { get; set; } = Array.Empty<double>();

    public double? WithheldFrom { get; set; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(StatisticsQuery))]
[JsonSerializable(typeof(StatisticsReply))]
[JsonSerializable(typeof(SurvivalQuery))]
[JsonSerializable(typeof(SurvivalReply))]
internal sealed partial class AnalyticsJson : JsonSerializerContext
{
}

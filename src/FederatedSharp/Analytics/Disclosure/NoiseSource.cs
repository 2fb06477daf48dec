using System.Security.Cryptography;

namespace FederatedSharp.Analytics;

/// <summary>
/// Draws the policy's noise for one query. The query's epsilon (and delta) is split equally between its
/// <c>groups</c> released statistics (sequential composition); each group's noise is calibrated to its own
/// sensitivity: Laplace scale <c>sensitivity / epsilon_g</c>, Gaussian sigma
/// <c>sensitivity * sqrt(2 ln(1.25 / delta_g)) / epsilon_g</c> (Dwork and Roth 2014, theorem A.1, valid for epsilon_g &lt; 1).
/// </summary>
internal sealed class NoiseSource
{
    private readonly DisclosurePolicy _policy;
    private readonly Random _random;
    private readonly double _groupEpsilon;
    private readonly double _groupDelta;

    public NoiseSource(DisclosurePolicy policy, Random random, int groups, string query)
    {
        _policy = policy;
        _random = random;
        _groupEpsilon = policy.EpsilonPerQuery / Math.Max(groups, 1);
        _groupDelta = policy.DeltaPerQuery / Math.Max(groups, 1);
        if (policy.Noise == NoiseMechanism.Gaussian && _groupEpsilon >= 1)
        {
            throw new QueryRefusedException(
                $"Query '{query}': Gaussian noise's classical calibration needs epsilon < 1 per statistic, and this query's {groups} statistics get {_groupEpsilon:G4} each; lower EpsilonPerQuery or use Laplace noise.");
        }
    }

    public bool Enabled => _policy.Noise != NoiseMechanism.None;

    public static Random CreateRandom(DisclosurePolicy policy) =>
        policy.NoiseSeed is ulong seed ? new DeterministicRandom(seed) : new DeterministicRandom(BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)));

    /// <summary>The value plus noise for a statistic of the given sensitivity (the value itself without noise).</summary>
    public double Add(double value, double sensitivity)
    {
        switch (_policy.Noise)
        {
            case NoiseMechanism.Laplace:
                double u = _random.NextDouble() - 0.5;
                double scale = sensitivity / _groupEpsilon;
                return value - (scale * Math.Sign(u) * Math.Log(1 - (2 * Math.Abs(u))));
            case NoiseMechanism.Gaussian:
                double sigma = sensitivity * Math.Sqrt(2 * Math.Log(1.25 / _groupDelta)) / _groupEpsilon;
                double u1 = 1 - _random.NextDouble();
                double u2 = _random.NextDouble();
                return value + (sigma * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            default:
                return value;
        }
    }
}

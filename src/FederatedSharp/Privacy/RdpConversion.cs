namespace FederatedSharp.Privacy;

/// <summary>How <see cref="RdpAccountant"/> turns Rényi DP into (epsilon, delta).</summary>
public enum RdpConversion
{
    /// <summary>Balle, Barthe, Gaboardi, Hsu and Sato 2020, theorem 21 (the default, as in Opacus and dp_accounting).</summary>
    Balle2020,

    /// <summary>The classic <c>RDP(a) + log(1/delta) / (a - 1)</c> of Mironov 2017, looser.</summary>
    Classic,
}

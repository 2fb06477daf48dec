namespace FederatedSharp.Privacy;

/// <summary>
/// Privacy-loss-distribution accountant of the Poisson-subsampled Gaussian mechanism (Koskela, Jälkö, Honkela 2020;
/// Meiser and Mohammadi 2018; Google's dp_accounting <c>PLDAccountant</c>), under add-or-remove-one adjacency. Each
/// mechanism's privacy loss L = log(P(x) / Q(x)) is discretised on a grid of width <see cref="Discretization"/> with
/// pessimistic rounding (every loss rounded up, tail mass beyond the grid counted as infinite loss), compositions are
/// convolutions of the loss distributions (FFT, by repeated squaring for repeated steps, with the tails beyond
/// <see cref="TailMass"/> folded pessimistically after each one), and
/// <c>delta(epsilon) = P[L = inf] + E[(1 - e^(epsilon - L))+]</c>, the maximum over the remove and add directions. The
/// result is an upper bound on the true epsilon, close to it, and below what RDP gives.
/// </summary>
public sealed class PldAccountant
{
    private readonly List<(double SampleRate, double NoiseMultiplier, long Steps)> _history = new();
    private readonly object _gate = new();
    private readonly Dictionary<(double, double), (LossDistribution Remove, LossDistribution Add)> _steps = new();
    private LossDistribution? _remove;
    private LossDistribution? _add;
    private int _composed;

    /// <summary>Creates an accountant.</summary>
    /// <param name="discretization">The loss grid's width (default 1e-4, dp_accounting's default); smaller is tighter and slower.</param>
    /// <param name="tailMass">The probability mass each truncation may fold away pessimistically (default 1e-15).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is not a small positive number.</exception>
    public PldAccountant(double discretization = 1e-4, double tailMass = 1e-15)
    {
        if (!(discretization > 0 && discretization <= 0.1))
        {
            throw new ArgumentOutOfRangeException(nameof(discretization), discretization, "The discretization must lie in (0, 0.1].");
        }

        if (!(tailMass > 0 && tailMass < 1e-3))
        {
            throw new ArgumentOutOfRangeException(nameof(tailMass), tailMass, "The tail mass must lie in (0, 1e-3).");
        }

        Discretization = discretization;
        TailMass = tailMass;
    }

    /// <summary>The loss grid's width.</summary>
    public double Discretization { get; }

    /// <summary>The tail mass folded per truncation.</summary>
    public double TailMass { get; }

    /// <summary>Records <paramref name="steps"/> applications of the Poisson-subsampled Gaussian mechanism.</summary>
    /// <param name="sampleRate">q, in [0, 1].</param>
    /// <param name="noiseMultiplier">sigma &gt; 0, the noise standard deviation over the sensitivity.</param>
    /// <param name="steps">How many steps.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public void Step(double sampleRate, double noiseMultiplier, long steps = 1)
    {
        SampledGaussianStep.Check(sampleRate, noiseMultiplier, steps);
        lock (_gate)
        {
            if (sampleRate > 0 && steps > 0)
            {
                _history.Add((sampleRate, noiseMultiplier, steps));
            }
        }
    }

    /// <summary>The smallest epsilon &gt;= 0 at which the composition is (epsilon, delta)-DP.</summary>
    /// <param name="delta">Target delta in (0, 1).</param>
    /// <returns>Epsilon; infinity when no finite epsilon reaches delta.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is outside (0, 1).</exception>
    public double GetEpsilon(double delta)
    {
        if (!(delta > 0 && delta < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "Delta must lie in (0, 1).");
        }

        (LossDistribution remove, LossDistribution add) = Compose();
        return Math.Max(remove.Epsilon(delta), add.Epsilon(delta));
    }

    /// <summary>The smallest delta for which the composition is (epsilon, delta)-DP.</summary>
    /// <param name="epsilon">Epsilon &gt;= 0.</param>
    /// <returns>Delta.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epsilon"/> is negative or not finite.</exception>
    public double GetDelta(double epsilon)
    {
        if (!(epsilon >= 0) || !double.IsFinite(epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Epsilon must be a finite number >= 0.");
        }

        (LossDistribution remove, LossDistribution add) = Compose();
        return Math.Max(remove.Delta(epsilon), add.Delta(epsilon));
    }

    /// <summary>The composition so far: each new history entry is convolved onto the cached one, so one round costs one convolution.</summary>
    private (LossDistribution Remove, LossDistribution Add) Compose()
    {
        lock (_gate)
        {
            LossDistribution remove = _remove ?? LossDistribution.Identity(Discretization);
            LossDistribution add = _add ?? LossDistribution.Identity(Discretization);
            for (; _composed < _history.Count; _composed++)
            {
                (double q, double sigma, long steps) = _history[_composed];
                if (!_steps.TryGetValue((q, sigma), out var single))
                {
                    var mechanism = new SubsampledGaussianLoss(q, sigma);
                    single = (mechanism.Discretize(removal: true, Discretization, TailMass), mechanism.Discretize(removal: false, Discretization, TailMass));
                    _steps[(q, sigma)] = single;
                }

                remove = remove.Convolve(single.Remove.Power(steps, TailMass), TailMass);
                add = add.Convolve(single.Add.Power(steps, TailMass), TailMass);
            }

            (_remove, _add) = (remove, add);
            return (remove, add);
        }
    }
}

namespace FederatedSharp.Analytics;

/// <summary>A site's spent privacy, by basic (sequential) composition: epsilons and deltas add up.</summary>
internal sealed class PrivacyBudget
{
    private readonly object _gate = new();
    private readonly double _epsilonBudget;
    private readonly double _deltaBudget;

    public PrivacyBudget(double epsilonBudget, double deltaBudget)
    {
        _epsilonBudget = epsilonBudget;
        _deltaBudget = deltaBudget;
    }

    public double EpsilonSpent { get; private set; }

    public double DeltaSpent { get; private set; }

    /// <summary>Spends (epsilon, delta) or throws without spending anything.</summary>
    public void Spend(double epsilon, double delta, string query)
    {
        lock (_gate)
        {
            // A relative slack lets a budget of exactly n queries be used n times despite rounding.
            double slack = 1 + 1e-12;
            if (EpsilonSpent + epsilon > _epsilonBudget * slack || DeltaSpent + delta > _deltaBudget * slack)
            {
                throw new QueryRefusedException(
                    $"Query '{query}' would exceed the site's privacy budget: it costs epsilon {epsilon:G4}, delta {delta:G4}; " +
                    $"spent so far epsilon {EpsilonSpent:G4} of {_epsilonBudget:G4}, delta {DeltaSpent:G4} of {_deltaBudget:G4}.");
            }

            EpsilonSpent += epsilon;
            DeltaSpent += delta;
        }
    }
}

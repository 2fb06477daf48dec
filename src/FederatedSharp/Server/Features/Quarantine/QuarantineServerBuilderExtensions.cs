namespace FederatedSharp.Server;

/// <summary>Quarantine of failing clients: <see cref="UseQuarantine"/>.</summary>
public static class QuarantineServerBuilderExtensions
{
    /// <summary>
    /// Leaves a client whose fit failed <paramref name="afterFailures"/> rounds in a row (exception, timeout, rejected
    /// update) out of selection for the next <paramref name="rounds"/> rounds, then readmits it. Works with every driver (a
    /// FedBuff round is a model version). Same as setting <see cref="FederatedServerOptions.QuarantineAfterFailures"/> and
    /// <see cref="FederatedServerOptions.QuarantineRounds"/>.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="afterFailures">Consecutive failed fits that quarantine a client (at least 1).</param>
    /// <param name="rounds">How many rounds the quarantine lasts (at least 1).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A count is below 1.</exception>
    public static FederatedServerBuilder UseQuarantine(this FederatedServerBuilder builder, int afterFailures, int rounds = 5)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(afterFailures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rounds);
        return builder.Configure(o =>
        {
            o.QuarantineAfterFailures = afterFailures;
            o.QuarantineRounds = rounds;
        });
    }
}

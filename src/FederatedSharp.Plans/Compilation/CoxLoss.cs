using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.Plans;

/// <summary>
/// The negative Cox partial log-likelihood with Breslow's handling of tied times, averaged over the events:
/// <c>-(1/E) sum over events i of [r_i - log sum over j with t_j &gt;= t_i of exp(r_j)]</c>. The target holds
/// (time, event) per row; a batch without events contributes a zero loss with a zero gradient.
/// </summary>
public static class CoxLoss
{
    /// <summary>The loss of risk scores against (time, event) targets.</summary>
    /// <param name="risk">Risk scores, shape [N, 1] or [N].</param>
    /// <param name="target">Shape [N, 2]: follow-up time, then 1 for an event or 0 for censoring.</param>
    /// <returns>A scalar tensor.</returns>
    /// <exception cref="ArgumentException">The shapes disagree.</exception>
    public static Tensor Compute(Tensor risk, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(risk);
        ArgumentNullException.ThrowIfNull(target);
        if (target.dim() != 2 || target.shape[1] != 2 || risk.numel() != target.shape[0])
        {
            throw new ArgumentException($"Cox loss takes risk scores [N, 1] and targets [N, 2] (time, event); got [{string.Join(", ", risk.shape)}] and [{string.Join(", ", target.shape)}].");
        }

        using var scope = torch.NewDisposeScope();
        Tensor r = risk.reshape(-1);
        float[] times = target.select(1, 0).to_type(ScalarType.Float32).data<float>().ToArray();
        // Descending time, stable; each row's risk set ends at the last row tied with it.
        long[] order = Enumerable.Range(0, times.Length).OrderByDescending(i => times[i]).Select(i => (long)i).ToArray();
        long[] groupEnd = new long[order.Length];
        for (int k = order.Length - 1; k >= 0; k--)
        {
            groupEnd[k] = k + 1 < order.Length && times[order[k + 1]] == times[order[k]] ? groupEnd[k + 1] : k;
        }

        Tensor index = torch.tensor(order);
        Tensor sortedRisk = r.index_select(0, index);
        Tensor sortedEvent = target.select(1, 1).to_type(r.dtype).index_select(0, index);
        Tensor logRiskSet = sortedRisk.logcumsumexp(0).index_select(0, torch.tensor(groupEnd));
        Tensor events = sortedEvent.sum().clamp_min(1);
        Tensor loss = sortedRisk.sub(logRiskSet).mul(sortedEvent).sum().neg().div(events);
        return loss.MoveToOuterDisposeScope();
    }
}

using FederatedSharp.Clients;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Training;

/// <summary>DP-SGD: per-example clipping and noise, the accountant kept in the client's state.</summary>
public sealed partial class TorchTrainerClient
{
    // DP-SGD step: per-example gradients (one backward pass per example), each clipped to C, summed, noised with
    // N(0, (z C)^2) per coordinate, averaged over the batch, and left in the parameters' grad for the optimizer.
    private double PrivateGradients(DpSgdOptions dp, Parameter[] parameters, Tensor x, Tensor y, Tensor[]? anchors, double mu, int round, long step)
    {
        long batch = x.shape[0];
        Tensor[] sums = parameters.Select(p => torch.zeros_like(p)).ToArray();
        double lossSum = 0;
        bool allZero = true;
        for (long j = 0; j < batch; j++)
        {
            using var exampleScope = torch.NewDisposeScope();
            foreach (Parameter p in parameters)
            {
                p.grad?.zero_();
            }

            Tensor loss = _options.Loss!(_module.forward(x.narrow(0, j, 1)), y.narrow(0, j, 1));
            lossSum += loss.item<float>();
            if (anchors is not null)
            {
                loss = loss + (ProximalTerm(parameters, anchors) * (mu / 2));
            }

            loss.backward();
            using var noGrad = torch.no_grad();
            double squared = 0;
            foreach (Parameter p in parameters)
            {
                if (p.grad is { } g)
                {
                    squared += g.square().sum().item<float>();
                }
            }

            allZero &= squared == 0;
            double factor = Math.Min(1.0, dp.MaxGradNorm / (Math.Sqrt(squared) + 1e-12));
            for (int i = 0; i < parameters.Length; i++)
            {
                if (parameters[i].grad is { } g)
                {
                    sums[i].add_(g * factor);
                }
            }
        }

        if (allZero && batch > 1)
        {
            ThrowIfLossNeedsTheBatch(parameters, x, y);
        }

        using (torch.no_grad())
        {
            var random = new DeterministicRandom(DeterministicRandom.Mix(dp.Seed, _options.Seed, (ulong)round, (ulong)step));
            double std = dp.NoiseMultiplier * dp.MaxGradNorm;
            for (int i = 0; i < parameters.Length; i++)
            {
                float[] noise = new float[sums[i].numel()];
                for (int k = 0; k < noise.Length; k++)
                {
                    noise[k] = (float)MathNet.Numerics.Distributions.Normal.Sample(random, 0, std);
                }

                Tensor noisy = (sums[i] + torch.tensor(noise, sums[i].shape)) / batch;
                parameters[i].grad?.copy_(noisy);
            }
        }

        return lossSum / batch;
    }

    // Every example's own gradient was zero: if the batch's gradient is not, the loss does not decompose per example
    // (a Cox partial likelihood over one example is identically 0) and DP-SGD would silently not train.
    private void ThrowIfLossNeedsTheBatch(Parameter[] parameters, Tensor x, Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        foreach (Parameter p in parameters)
        {
            p.grad?.zero_();
        }

        _options.Loss!(_module.forward(x), y).backward();
        double squared = 0;
        using (torch.no_grad())
        {
            foreach (Parameter p in parameters)
            {
                if (p.grad is { } g)
                {
                    squared += g.square().sum().item<float>();
                }
            }
        }

        if (squared > 0)
        {
            throw new InvalidOperationException(
                "DP-SGD computed a zero gradient for every example of the batch while the batch's own gradient is not zero: the loss does not decompose per example (the Cox partial likelihood, for one, needs the whole batch). DP-SGD cannot train with it; set TorchTrainerOptions.LossDecomposesPerExample = false and use central DP on the server (UseCentralDp) instead.");
        }
    }

    // DP-SGD's accountant history (q, sigma, steps per fit) lives in the client's state too, so epsilon keeps growing across calls.
    private double AccountDpSgd(ClientState? state, double sampleRate, double noiseMultiplier, long steps, double delta)
    {
        string previous = state is null ? _dpHistory : (state.TryGetValue(DpSgdHistoryKey, out ConfigValue value) ? value.AsString() : "");
        string entry = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{sampleRate:R}|{noiseMultiplier:R}|{steps}");
        string history = previous.Length == 0 ? entry : previous + ";" + entry;
        var accountant = new FederatedSharp.Privacy.RdpAccountant();
        foreach (string[] fields in history.Split(';').Select(e => e.Split('|')))
        {
            accountant.Step(double.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture), double.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture),
                long.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture));
        }

        _dpHistory = history;
        state?.Set(DpSgdHistoryKey, history);
        return accountant.GetPrivacySpent(delta).Epsilon;
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.Plans.Tests.Compilation;

public sealed class CoxLossTests
{
    // Times 5, 3, 3, 1 (a tie at 3), events 1, 1, 0, 1, risks r.
    private static readonly float[] Risk = [0.5f, -0.2f, 0.1f, 1.0f];
    private static readonly float[] Time = [5, 3, 3, 1];
    private static readonly float[] Event = [1, 1, 0, 1];

    [Test]
    public void Compute_SmallCohortWithATie_EqualsTheHandComputation()
    {
        // Breslow: the event at t = 5 has risk set {0}; at t = 3, {0, 1, 2} (both tied rows); at t = 1, everyone.
        double[] r = Risk.Select(v => (double)v).ToArray();
        double atFive = r[0] - Math.Log(Math.Exp(r[0]));
        double atThree = r[1] - Math.Log(Math.Exp(r[0]) + Math.Exp(r[1]) + Math.Exp(r[2]));
        double atOne = r[3] - Math.Log(r.Sum(Math.Exp));
        double expected = -(atFive + atThree + atOne) / 3;

        Assert.That(Loss(Risk, Time, Event), Is.EqualTo(expected).Within(1e-6));
    }

    [Test]
    public void Compute_RowsPermuted_SameLoss()
    {
        int[] order = [2, 0, 3, 1];

        double permuted = Loss(order.Select(i => Risk[i]).ToArray(), order.Select(i => Time[i]).ToArray(), order.Select(i => Event[i]).ToArray());

        Assert.That(permuted, Is.EqualTo(Loss(Risk, Time, Event)).Within(1e-6));
    }

    [Test]
    public void Compute_NoEvents_ZeroLossAndZeroGradient()
    {
        using var scope = torch.NewDisposeScope();
        Tensor risk = torch.tensor(Risk, [4, 1]).requires_grad_(true);
        Tensor target = Target(Time, [0, 0, 0, 0]);

        Tensor loss = CoxLoss.Compute(risk, target);
        loss.backward();

        Assert.That(loss.item<float>(), Is.EqualTo(0));
        Assert.That(risk.grad!.abs().sum().item<float>(), Is.EqualTo(0));
    }

    [Test]
    public void Compute_Gradient_MatchesFiniteDifferences()
    {
        using var scope = torch.NewDisposeScope();
        Tensor risk = torch.tensor(Risk.Select(v => (double)v).ToArray(), [4, 1], ScalarType.Float64).requires_grad_(true);
        Tensor target = Target(Time, Event).to_type(ScalarType.Float64);
        CoxLoss.Compute(risk, target).backward();
        double[] gradient = risk.grad!.data<double>().ToArray();

        for (int i = 0; i < 4; i++)
        {
            double[] up = Risk.Select(v => (double)v).ToArray();
            double[] down = (double[])up.Clone();
            up[i] += 1e-6;
            down[i] -= 1e-6;
            double numeric = (LossDouble(up) - LossDouble(down)) / 2e-6;
            Assert.That(gradient[i], Is.EqualTo(numeric).Within(1e-6), $"row {i}");
        }
    }

    [Test]
    public void Compute_WrongTargetShape_Throws() =>
        Assert.Throws<ArgumentException>(() => CoxLoss.Compute(torch.zeros(4, 1), torch.zeros(4, 1)));

    private static double Loss(float[] risk, float[] time, float[] happened)
    {
        using var scope = torch.NewDisposeScope();
        return CoxLoss.Compute(torch.tensor(risk, [risk.Length, 1]), Target(time, happened)).item<float>();
    }

    private static double LossDouble(double[] risk)
    {
        using var scope = torch.NewDisposeScope();
        return CoxLoss.Compute(torch.tensor(risk, [4, 1], ScalarType.Float64), Target(Time, Event).to_type(ScalarType.Float64)).item<double>();
    }

    private static Tensor Target(float[] time, float[] happened) =>
        torch.stack([torch.tensor(time), torch.tensor(happened)], 1);
}

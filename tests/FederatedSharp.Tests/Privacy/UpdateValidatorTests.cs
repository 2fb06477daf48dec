using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Privacy;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Privacy;

public class UpdateValidatorTests
{
    [Test]
    public void Validate_NaNValue_RejectsNamingTensorAndElement()
    {
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        using var result = new FitResult(TestModels.Filled(TestModels.SmallLayout, 1), 5);
        result.Parameters.GetTensor("fc.bias")[1] = float.NaN;
        var ex = Assert.Throws<InvalidUpdateException>(() => new UpdateValidator().Validate("c1", global, result));
        Assert.That(ex!.Message, Does.Contain("c1").And.Contain("NaN").And.Contain("fc.bias").And.Contain("element 1"));
    }

    [Test]
    public void Validate_Infinity_Rejects()
    {
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        using var result = new FitResult(TestModels.Filled(TestModels.SmallLayout, 1), 5);
        result.Parameters.Values[0] = float.NegativeInfinity;
        Assert.Throws<InvalidUpdateException>(() => new UpdateValidator().Validate("c1", global, result));
    }

    [Test]
    public void Validate_LayoutMismatch_Rejects()
    {
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        using var result = new FitResult(ModelParameters.Create(TensorLayout.Create(new TensorSpec("x", 8))), 5);
        var ex = Assert.Throws<InvalidUpdateException>(() => new UpdateValidator().Validate("c1", global, result));
        Assert.That(ex!.Message, Does.Contain("Layout mismatch"));
    }

    [Test]
    public void Validate_ZeroExamples_Rejects()
    {
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        using var result = new FitResult(TestModels.Filled(TestModels.SmallLayout, 0), 0);
        Assert.Throws<InvalidUpdateException>(() => new UpdateValidator().Validate("c1", global, result));
    }

    [Test]
    public void Validate_NormAboveBound_RejectsAndBelowAccepts()
    {
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        using var result = new FitResult(TestModels.Filled(TestModels.SmallLayout, 1), 5); // norm sqrt(8) = 2.83
        Assert.Throws<InvalidUpdateException>(() => new UpdateValidator(new UpdateValidationOptions { MaxUpdateNorm = 2.5 }).Validate("c1", global, result));
        Assert.DoesNotThrow(() => new UpdateValidator(new UpdateValidationOptions { MaxUpdateNorm = 3 }).Validate("c1", global, result));
    }

    [Test]
    public void Validate_ExampleCountAboveLimit_Rejects()
    {
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        using var result = new FitResult(TestModels.Filled(TestModels.SmallLayout, 0), 1_000_000);
        Assert.Throws<InvalidUpdateException>(() => new UpdateValidator(new UpdateValidationOptions { MaxExampleCount = 1000 }).Validate("c1", global, result));
    }

    private static FitResult Shifted(float by) => new(TestModels.Filled(TestModels.SmallLayout, by), 5);

    [Test]
    public void Validate_RelativeBound_RejectsOutlierAgainstMedianOfRecentUpdates()
    {
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        var validator = new UpdateValidator(new UpdateValidationOptions { MaxUpdateNormToMedian = 3, RelativeNormMinimumHistory = 3 });
        float[] shifts = [1.0f, 1.2f, 0.8f, 1.1f];
        for (int i = 0; i < shifts.Length; i++)
        {
            using FitResult normal = Shifted(shifts[i]);
            validator.Validate("honest-" + i, global, normal, round: 1);
        }

        using FitResult outlier = Shifted(10f);
        using FitResult borderline = Shifted(2.9f);

        var ex = Assert.Throws<InvalidUpdateException>(() => validator.Validate("mallory", global, outlier, round: 2));
        Assert.That(ex!.Message, Does.Contain("x the median").And.Contain("last 4 accepted updates"));
        Assert.DoesNotThrow(() => validator.Validate("honest-5", global, borderline, round: 2));
    }

    [Test]
    public void Validate_RelativeBound_NotAppliedBeforeMinimumHistoryNorWithoutRound()
    {
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        var validator = new UpdateValidator(new UpdateValidationOptions { MaxUpdateNormToMedian = 2, RelativeNormMinimumHistory = 2 });
        using FitResult small = Shifted(1f);
        using FitResult large = Shifted(100f);

        validator.Validate("a", global, small, round: 1);
        Assert.DoesNotThrow(() => validator.Validate("b", global, large, round: 1), "one norm is not enough history");
        Assert.DoesNotThrow(() => validator.Validate("c", global, large), "the stateless overload skips it");
        using FitResult huge = Shifted(300f);
        Assert.Throws<InvalidUpdateException>(() => validator.Validate("d", global, huge, round: 2), "3x the larger accepted norm is above 2x their median");
    }

    [Test]
    public void Validate_RateLimit_OneUpdatePerThreeRounds()
    {
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        var validator = new UpdateValidator(new UpdateValidationOptions { MaxUpdatesPerClient = 1, RateLimitRounds = 3 });
        using FitResult update = Shifted(1f);

        validator.Validate("eager", global, update, round: 1);
        var ex = Assert.Throws<InvalidUpdateException>(() => validator.Validate("eager", global, update, round: 3));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.Contain("rate limit"));
            Assert.DoesNotThrow(() => validator.Validate("other", global, update, round: 3), "limits are per client");
            Assert.DoesNotThrow(() => validator.Validate("eager", global, update, round: 4), "round 1 left the window");
        });
    }
}

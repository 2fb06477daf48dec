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
}

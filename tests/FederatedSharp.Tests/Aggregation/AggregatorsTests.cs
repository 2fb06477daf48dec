using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Aggregation;

public class AggregatorsTests
{
    [Test]
    public void Create_EveryName_ReturnsStrategyWithThatName()
    {
        foreach (string name in Aggregators.Names.Keys)
        {
            Assert.That(Aggregators.Create(name).Name.ToLowerInvariant(), Is.EqualTo(name), name);
        }
    }

    [Test]
    public void Create_Hyperparameters_ArePassed()
    {
        var adam = (FedAdam)Aggregators.Create("FedAdam", new ConfigRecord { ["eta"] = 0.01, ["beta_2"] = 0.999, ["tau"] = 1e-8 });
        Assert.That((adam.Eta, adam.Beta1, adam.Beta2, adam.Tau), Is.EqualTo((0.01, 0.9, 0.999, 1e-8)));
    }

    [Test]
    public void Create_UnknownNameOrHyperparameter_ThrowsListingChoices()
    {
        var ex = Assert.Throws<ArgumentException>(() => Aggregators.Create("fedsgd"));
        Assert.That(ex!.Message, Does.Contain("fedadam"));
        var ex2 = Assert.Throws<ArgumentException>(() => Aggregators.Create("fedprox", new ConfigRecord { ["mu"] = 0.1 }));
        Assert.That(ex2!.Message, Does.Contain("proximal_mu"));
    }
}

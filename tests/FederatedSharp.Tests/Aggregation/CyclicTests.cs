using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Aggregation;

public class CyclicTests
{
    private static readonly string[] Clients = { "a", "b", "c", "d", "e" };

    [Test]
    public void SelectFitClients_OneCycle_VisitsEveryClientOnce()
    {
        var cyclic = new Cyclic();
        string[] visited = Enumerable.Range(1, 5).Select(r => cyclic.SelectFitClients(r, Clients, 42).Single()).ToArray();
        Assert.That(visited, Is.EquivalentTo(Clients));
    }

    [Test]
    public void SelectFitClients_DeterministicCycle_RepeatsOrderOtherwiseReshuffles()
    {
        string[] Cycle(Cyclic c, int cycle) => Enumerable.Range(1 + (5 * cycle), 5).Select(r => c.SelectFitClients(r, Clients, 42).Single()).ToArray();
        var fixedOrder = new Cyclic(deterministicCycle: true);
        var reshuffled = new Cyclic();
        Assert.Multiple(() =>
        {
            Assert.That(Cycle(fixedOrder, 1), Is.EqualTo(Cycle(fixedOrder, 0)));
            Assert.That(Enumerable.Range(1, 4).Select(c => string.Concat(Cycle(reshuffled, c))).Distinct().Count(), Is.GreaterThan(1));
        });
    }

    [Test]
    public void SelectFitClients_GroupOfTwo_CoversClientsInThreeRounds()
    {
        var cyclic = new Cyclic(groupSize: 2);
        IReadOnlyList<string>[] groups = Enumerable.Range(1, 3).Select(r => cyclic.SelectFitClients(r, Clients, 1)).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(groups.Select(g => g.Count), Is.EqualTo(new[] { 2, 2, 1 }));
            Assert.That(groups.SelectMany(g => g), Is.EquivalentTo(Clients));
        });
    }
}

using FederatedSharp.Transport;

namespace FederatedSharp.Tests.Transport;

public class ClientCountWaiterTests
{
    [Test]
    public async Task WaitAsync_MinimumReachedLater_CompletesOnNotify()
    {
        int count = 1;
        var waiter = new ClientCountWaiter(() => count);

        Task two = waiter.WaitAsync(2);
        Task three = waiter.WaitAsync(3);
        count = 2;
        waiter.Notify();
        await two.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(waiter.WaitAsync(1).IsCompletedSuccessfully, Is.True, "already met");
            Assert.That(three.IsCompleted, Is.False);
        });
    }

    [Test]
    public void Fail_PendingWaiters_SeeTheException()
    {
        var waiter = new ClientCountWaiter(() => 0);
        Task pending = waiter.WaitAsync(1);

        waiter.Fail(new ObjectDisposedException("transport"));

        Assert.That(async () => await pending, Throws.InstanceOf<ObjectDisposedException>());
    }
}

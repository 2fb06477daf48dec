using FederatedSharp.Coordinator.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace FederatedSharp.Coordinator.Tests.TestUtilities;

/// <summary>
/// Holds the coordinator's recording of a job's rounds once a given round is stored, until disposed: the store (and so
/// the dashboard) shows that round while the federation goes on, and the later rounds are recorded, in order, on release.
/// The runner records rounds one after another on a chain of its own, so holding one record holds the rest, not the job.
/// </summary>
internal sealed class RoundGate : IDisposable
{
    private readonly JobRunner _runner;
    private readonly string _job;
    private readonly int _round;
    private readonly ManualResetEventSlim _release = new();

    private RoundGate(JobRunner runner, string job, int round)
    {
        _runner = runner;
        _job = job;
        _round = round;
        _runner.RoundRecorded += OnRecorded;
    }

    public static RoundGate Hold(LocalFederation federation, string job, int round) =>
        new((JobRunner)federation.Host.Services.GetRequiredService(typeof(JobRunner)), job, round);

    public void Dispose()
    {
        _runner.RoundRecorded -= OnRecorded;
        _release.Set();
    }

    private void OnRecorded(string job, int round)
    {
        if (job == _job && round == _round)
        {
            // Bounded, so a test that fails before releasing cannot hold the coordinator forever.
            _release.Wait(TimeSpan.FromMinutes(3));
        }
    }
}

namespace FederatedSharp.Coordinator;

/// <summary>How the coordinator gathers nodes for a job and runs it.</summary>
public sealed class CoordinatorOptions
{
    /// <summary>How long a queued job waits for enough nodes to accept it before it fails (default 10 minutes).</summary>
    public TimeSpan AcceptanceTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often nodes whose site has not approved the plan yet are asked again (default 30 seconds).</summary>
    public TimeSpan ReofferInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long accepted nodes have to join the job's federation (default 2 minutes).</summary>
    public TimeSpan JoinTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long to wait for the last connected nodes to answer once enough have accepted (default 10 seconds).</summary>
    public TimeSpan AnswerGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the runner looks for queued jobs when nothing wakes it (default 1 second).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A duration is not positive.</exception>
    public void Validate()
    {
        foreach ((TimeSpan value, string name) in new[] { (AcceptanceTimeout, nameof(AcceptanceTimeout)), (ReofferInterval, nameof(ReofferInterval)), (JoinTimeout, nameof(JoinTimeout)), (PollInterval, nameof(PollInterval)) })
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(name, value, "Must be positive.");
            }
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(AnswerGrace, TimeSpan.Zero);
    }
}

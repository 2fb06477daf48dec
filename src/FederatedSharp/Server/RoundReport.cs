namespace FederatedSharp.Server;

/// <summary>Progress of a running federation, reported after every round.</summary>
/// <param name="Round">The round just finished.</param>
/// <param name="TotalRounds">The number of rounds planned.</param>
/// <param name="Record">What happened in the round.</param>
public sealed record RoundReport(int Round, int TotalRounds, RoundRecord Record);

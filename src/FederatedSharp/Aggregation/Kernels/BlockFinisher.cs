namespace FederatedSharp.Aggregation.Kernels;

/// <summary>Finishes one block of a final pass in place, while it is in cache: on entry the round's mean, on exit the new global model.</summary>
/// <param name="start">The block's first coordinate.</param>
/// <param name="block">The block.</param>
internal delegate void BlockFinisher(int start, Span<float> block);

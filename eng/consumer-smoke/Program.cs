using FederatedSharp.Parameters;
using FederatedSharp.TorchSharp;
using TorchSharp;

var adapter = new TorchModelAdapter(torch.nn.Linear(3, 2));
using ModelParameters parameters = adapter.ToParameters();
Console.WriteLine($"consumer OK: {parameters.Layout}");

using FederatedSharp.Clients;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.TorchSharp.Training;
using HeartDisease;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TorchSharp;

namespace GrpcFederation;

/// <summary>A hospital: a worker service whose hosted client trains on the hospital's own patients when the server asks.</summary>
public static class ClientMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddCommandLine(args, FederationSettings.Switches);
        FederationSettings settings = builder.Configuration.GetSection("Federation").Get<FederationSettings>() ?? new();
        int index = Array.FindIndex(HeartDiseaseData.CentreNames, n => string.Equals(n, settings.Hospital, StringComparison.OrdinalIgnoreCase) || Certificates.ClientId(n) == settings.Hospital);
        if (index < 0)
        {
            Console.Error.WriteLine("--hospital must be one of: " + string.Join(", ", HeartDiseaseData.CentreNames));
            return 2;
        }

        Centre centre = HeartDiseaseData.Load().Centres[index];
        string clientId = Certificates.ClientId(centre.Name);
        string certs = Path.GetFullPath(settings.CertificateDirectory, Environment.CurrentDirectory);
        string server = settings.ServerAddress ?? $"https://localhost:{settings.Port}";
        while (!File.Exists(Certificates.CaCertificate(certs)))
        {
            Console.WriteLine($"Waiting for the certificates in {certs} (start the server first) ...");
            await Task.Delay(1000);
        }

        builder.Services.AddFederatedClient(_ => new ReportingClient(centre.Name, new TorchTrainerClient(new TorchTrainerOptions
        {
            Module = HeartDiseaseFederation.CreateModel(),
            Train = TorchDataSet.FromArrays(centre.TrainFeatures, HeartDiseaseData.FeatureCount, centre.TrainLabels),
            Test = TorchDataSet.FromArrays(centre.TestFeatures, HeartDiseaseData.FeatureCount, centre.TestLabels),
            Loss = torch.nn.BCELoss().forward,
            BatchSize = 4,
            LocalSteps = 100,
            Seed = settings.Seed + (ulong)centre.Index,
            Metrics = { ["accuracy"] = TorchMetrics.BinaryAccuracy() },
        })));
        builder.Services.AddFederatedGrpcClient(builder.Configuration.GetSection("Federation:Client"), (o, _) =>
        {
            o.ServerAddress = new Uri(server);
            o.ClientId = clientId;
            o.Properties = new ConfigRecord { ["hospital"] = centre.Name, ["train_examples"] = (long)centre.TrainCount };
            o.ClientCertificate = Certificates.LoadClient(certs, clientId);
            o.TrustedCertificateAuthority = Certificates.LoadCa(certs);
        });
        Telemetry.AddIfRequested(builder.Services, settings, "fedsharp-" + clientId);

        using IHost host = builder.Build();
        var hosted = host.Services.GetRequiredService<FederatedGrpcClientHostedService>();
        Console.WriteLine($"{centre.Name}: {centre.TrainCount} training and {centre.TestCount} test patients stay here; connecting to {server} as '{clientId}' ...");
        await host.RunAsync();
        if (!hosted.Completion.IsCompletedSuccessfully)
        {
            Console.Error.WriteLine($"{centre.Name}: stopped before the federation ended{(hosted.Completion.IsFaulted ? ": " + hosted.Completion.Exception!.InnerException!.Message : "")}.");
            return 1;
        }

        Console.WriteLine($"{centre.Name}: the federation is over ({hosted.Runner.CompletedTasks} tasks done).");
        return 0;
    }
}

/// <summary>Prints what the hospital does for the federation.</summary>
internal sealed class ReportingClient(string name, TorchTrainerClient inner) : IClient, IDisposable
{
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => inner.GetPropertiesAsync(cancellationToken);

    public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        FitResult result = await inner.FitAsync(instructions, cancellationToken);
        Console.WriteLine($"{name}: round {instructions.Round} trained on {result.ExampleCount} patients, train loss {result.Metrics.GetDouble("train_loss", double.NaN):F4}");
        return result;
    }

    public async Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default)
    {
        EvaluateResult result = await inner.EvaluateAsync(instructions, cancellationToken);
        Console.WriteLine($"{name}: round {instructions.Round} test accuracy {result.Metrics.GetDouble("accuracy", double.NaN):F3}");
        return result;
    }

    public void Dispose() => inner.Dispose();
}

using System.Globalization;
using FederatedSharp.Clients;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Grpc.Server;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using HeartDisease;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ScottPlot;
using TorchSharp;

namespace GrpcFederation;

/// <summary>The federation server: an ASP.NET Core application with the gRPC endpoint and the federation as a hosted service.</summary>
public static class ServerMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddCommandLine(args, FederationSettings.Switches);
        FederationSettings settings = builder.Configuration.GetSection("Federation").Get<FederationSettings>() ?? new();
        string certs = Path.GetFullPath(settings.CertificateDirectory, Environment.CurrentDirectory);
        Certificates.EnsureCreated(certs, settings.ExtraHostNames.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        var plan = HeartDiseaseFederation.Plan(new HeartDiseaseOptions { Seed = settings.Seed });

        // The same initial model as the in-memory sample: PyTorch's default initialisation under the seed.
        torch.random.manual_seed((long)(settings.Seed % long.MaxValue));
        using var initialModel = HeartDiseaseFederation.CreateModel();
        using ModelParameters initial = new FederatedSharp.TorchSharp.TorchModelAdapter(initialModel).ToParameters();

        var serverCertificate = Certificates.LoadServer(certs);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(settings.Port, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            listen.UseHttps(https => https.UseFederationHttps(serverCertificate));
        }));

        // Model bytes travel on the data channel (Federation:Grpc:DataChannel in appsettings.json: its port), with the
        // same certificate as the gRPC endpoint.
        builder.Services.AddFederatedGrpcTransport(builder.Configuration.GetSection("Federation:Grpc"), o =>
        {
            o.DataChannel.ServerCertificate = serverCertificate;
            o.ClientCertificateAuthority = Certificates.LoadCa(certs);
            o.AllowedClientIds.UnionWith(HeartDiseaseData.CentreNames.Select(Certificates.ClientId));
        });
        builder.Services.AddFederatedServer(builder.Configuration.GetSection("Federation:Server"), (server, _) => server
            .UseAggregator(plan.Aggregator)
            .WithInitialParameters(initial)
            .Configure(o =>
            {
                o.Rounds = settings.Rounds;
                o.Seed = settings.Seed;
                o.MinFitClients = Math.Min(o.MinFitClients, plan.MinFitClients);   // a round survives two hospitals dropping out
            })
            .WithFitConfig(_ => new ConfigRecord
            {
                [ConfigKeys.LocalSteps] = 100,
                [ConfigKeys.LearningRate] = plan.ClientLearningRate,
                [ConfigKeys.BatchSize] = 4,
            }));
        var rounds = new List<RoundRecord>();
        builder.Services.AddSingleton<IProgress<RoundReport>>(sp => new InlineProgress<RoundReport>(report =>
        {
            rounds.Add(report.Record);
            Print(report.Record, settings.Rounds, sp.GetRequiredService<GrpcFederationTransport>());
        }));
        builder.Services.AddFederatedServerHostedService();
        Telemetry.AddIfRequested(builder.Services, settings, "fedsharp-server");

        await using WebApplication app = builder.Build();
        app.MapFederatedGrpcTransport();
        await app.StartAsync();
        int? dataPort = app.Services.GetRequiredService<GrpcFederationTransport>().DataPort;
        Console.WriteLine($"Listening on port {settings.Port} with mutual TLS{(dataPort is int p ? $" (model bytes on port {p})" : "")}; waiting for the {HeartDiseaseData.CentreNames.Length} hospitals ...");
        await app.WaitForShutdownAsync();

        Task<FederationResult> completion = app.Services.GetRequiredService<FederatedServerHostedService>().Completion;
        if (!completion.IsCompletedSuccessfully)
        {
            Console.Error.WriteLine(completion.IsFaulted ? $"The federation failed: {completion.Exception!.InnerException!.Message}" : "Stopped before the federation ended.");
            return 1;
        }

        FederationResult result = completion.Result;
        WritePlot(rounds, settings.Plot);
        Console.WriteLine($"Done: final federated accuracy {rounds[^1].DistributedMetrics.GetDouble("accuracy", double.NaN):F3}; plot written to {settings.Plot}");
        Console.WriteLine("final parameters: " + string.Join(" ", result.Parameters.Values.ToArray().Select(v => v.ToString("G9", CultureInfo.InvariantCulture))));
        return 0;
    }

    private static void Print(RoundRecord r, int total, GrpcFederationTransport transport)
    {
        double acc = r.DistributedMetrics.GetDouble("accuracy", double.NaN);
        Console.WriteLine($"round {r.Round,2}/{total}: {r.AggregatedUpdates} updates, federated loss {r.DistributedLoss:F4}, accuracy {acc:F3}, " +
            $"{r.Failures.Count} failures, {r.Duration.TotalSeconds:F1} s; {transport.BytesSent / 1e3:F0} kB sent, {transport.BytesReceived / 1e3:F0} kB received");
    }

    private static void WritePlot(IReadOnlyList<RoundRecord> rounds, string path)
    {
        var plot = new Plot();
        double[] rs = rounds.Select(r => (double)r.Round).ToArray();
        plot.Add.Scatter(rs, rounds.Select(r => r.DistributedMetrics.GetDouble("accuracy", double.NaN)).ToArray()).LegendText = "accuracy (example-weighted over hospitals)";
        plot.Add.Scatter(rs, rounds.Select(r => r.DistributedLoss ?? double.NaN).ToArray()).LegendText = "federated loss (BCE)";
        plot.Title("Fed-Heart-Disease over gRPC with mutual TLS (4 hospital processes)");
        plot.XLabel("round");
        plot.ShowLegend(Alignment.MiddleRight);
        plot.SavePng(path, 900, 500);
    }
}

internal sealed class InlineProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}

using FederatedSharp.Aggregation;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.TorchSharp.Modules;
using FederatedSharp.TorchSharp.Training;
using FederatedSharp.Transport.InMemory;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Snippets;

public static class Personalisation
{
    public static TorchTrainerClient FedPerClient(TorchDataSet train, TorchDataSet test)
    {
        // snippet: personalisation-fedper
        var client = new TorchTrainerClient(new TorchTrainerOptions
        {
            Module = nn.Sequential(("body", nn.Linear(13, 16)), ("relu", nn.ReLU()), ("head", nn.Linear(16, 1)), ("sigmoid", nn.Sigmoid())),
            Train = train,
            Test = test,                           // the site's own test split: its personalised model is evaluated on it
            Loss = nn.BCELoss().forward,
            Metrics = { ["accuracy"] = TorchMetrics.BinaryAccuracy() },
            Personalization = new PersonalizationOptions
            {
                Method = PersonalizationMethod.FedPer,   // or FedRep, FedBN, Ditto, FineTune
                PersonalLayers = { "head." },            // a module prefix, an exact name, or a * pattern
            },
        });
        // client.Layout lacks head.weight and head.bias: the server's model is the body only.
        // end snippet
        return client;
    }

    public static FederatedServer Server(InMemoryTransport transport, ModelParameters body)
    {
        // snippet: personalisation-report
        FederatedServer server = new FederatedServerBuilder()
            .UseTransport(transport)
            .UseAggregator(new FedAvg())
            .WithInitialParameters(body)                  // the clients' Layout: shared tensors only
            .WithMetricAggregation(m =>
            {
                m.Evaluate["personal_accuracy"] = MetricAggregators.Mean;                       // per-site mean
                m.Computed["personal_accuracy_worst"] = MetricAggregators.Worst("personal_accuracy");
            })
            .Build();
        // history.Rounds[i].DistributedMetrics["personal_accuracy"], ["personal_accuracy_worst"]; ["accuracy"] is the global model's
        // end snippet
        return server;
    }

    public static (TorchTrainerClient Client, FederatedServer Server) LoraAdapters(TorchDataSet train, InMemoryTransport transport, ModelParameters pretrained, Sequential pretrainedNetwork)
    {
        // snippet: partial-training-lora
        // Client: the pretrained network with a LoRA adapter on its classifier; only the adapters train and travel up.
        var options = new TorchTrainerOptions
        {
            Module = Lora.Apply(pretrainedNetwork, rank: 4, alpha: 8, "head"),   // or "*" for every linear layer
            Train = train,
            Loss = nn.NLLLoss().forward,
            Trainable = { "*lora_*" },        // or Frozen = { "body." } to train everything but the body
        };
        var client = new TorchTrainerClient(options);   // client.UpdateLayout: head.lora_A, head.lora_B

        // Server: the whole model goes down; the partial results are completed with its other tensors.
        FederatedServer server = new FederatedServerBuilder()
            .UseTransport(transport)
            .UseAggregator(new FedAvg())
            .WithInitialParameters(pretrained)             // the client's Layout: body, head.base and the adapters
            .UsePartialUpdates()
            .Build();
        // end snippet
        return (client, server);
    }
}

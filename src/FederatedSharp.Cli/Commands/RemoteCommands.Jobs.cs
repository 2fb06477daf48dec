using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace FederatedSharp.Cli.Commands;

internal static partial class RemoteCommands
{
    public static Command Job(CliContext context)
    {
        var job = new Command("job", "Submit, follow, cancel and download jobs (researcher).");
        ApiClient.AddOptions(job);
        var id = new Argument<string>("id") { Description = "The job's id." };

        var plan = new Argument<FileInfo>("plan") { Description = "The plan's JSON file." };
        var datasets = new Option<string[]>("--datasets") { Description = "The dataset names the job may use at the sites.", Required = true, AllowMultipleArgumentsPerToken = true };
        var minNodes = new Option<int?>("--min-nodes") { Description = "The fewest accepting nodes to start (default: the plan's minClients)." };
        job.Subcommands.Add(Remote(context, "submit", "Submit a plan as a job.", [plan, datasets, minNodes], async (api, parse, ct) =>
        {
            using JsonDocument document = JsonDocument.Parse(await File.ReadAllTextAsync(parse.GetValue(plan)!.FullName, ct).ConfigureAwait(false));
            string[] names = parse.GetValue(datasets)!.SelectMany(d => d.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
            return await api.PostAsync("/api/jobs", new { plan = document.RootElement, datasets = names, minNodes = parse.GetValue(minNodes) }, ct).ConfigureAwait(false);
        }, r => $"submitted {r.GetProperty("id").GetString()} (plan {r.GetProperty("planHash").GetString()![..12]}): {r.GetProperty("status").GetString()}"));

        job.Subcommands.Add(Remote(context, "list", "List jobs.", [], (api, _, ct) => api.GetAsync("/api/jobs", ct),
            r => string.Join(Environment.NewLine, r.EnumerateArray().Select(j => $"{j.GetProperty("id").GetString(),-28} {j.GetProperty("status").GetString(),-10} {j.GetProperty("submittedBy").GetString()}"))));
        job.Subcommands.Add(Remote(context, "status", "Show a job: status, each node's answer, rounds.", [id], (api, parse, ct) => api.GetAsync($"/api/jobs/{parse.GetValue(id)}", ct), Describe));
        job.Subcommands.Add(Remote(context, "cancel", "Cancel a job (your own; admins any).", [id], (api, parse, ct) => api.PostAsync($"/api/jobs/{parse.GetValue(id)}/cancel", null, ct),
            r => $"cancelled {r.GetProperty("id").GetString()}"));
        job.Subcommands.Add(Watch(context, id));
        job.Subcommands.Add(Download(context, id));
        return job;
    }

    private static Command Watch(CliContext context, Argument<string> id)
    {
        var command = new Command("watch", "Follow a job live with a progress bar until it ends; exits 1 unless it succeeded.") { id };
        command.SetAction((parse, ct) => Call(context, parse, async api =>
        {
            string last = "";
            while (true)
            {
                JsonElement status = await api.GetAsync($"/api/jobs/{parse.GetValue(id)}", ct).ConfigureAwait(false);
                string state = status.GetProperty("job").GetProperty("status").GetString()!;
                int done = status.GetProperty("history").GetArrayLength();
                int total = status.GetProperty("rounds").GetInt32();
                string line = $"[{new string('#', done * 30 / Math.Max(total, 1)),-30}] round {done}/{total}  {state}{Metric(status)}";
                if (!parse.GetValue(CliContext.JsonOption) && line != last)
                {
                    await context.Output.WriteLineAsync(line).ConfigureAwait(false);
                    last = line;
                }

                if (state is "succeeded" or "failed" or "cancelled")
                {
                    context.Write(parse, status, () => Describe(status));
                    return state == "succeeded" ? ExitCodes.Success : ExitCodes.Failure;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), context.Time, ct).ConfigureAwait(false);
            }
        }));
        return command;
    }

    private static Command Download(CliContext context, Argument<string> id)
    {
        var output = new Option<FileInfo>("--output", "-o") { Description = "Where to write the safetensors file (default: JOB.safetensors)." };
        var command = new Command("download", "Download a finished job's model as safetensors, if every site's policy allows export.") { id, output };
        command.SetAction((parse, ct) => Call(context, parse, async api =>
        {
            byte[] model = await api.DownloadAsync($"/api/jobs/{parse.GetValue(id)}/model", ct).ConfigureAwait(false);
            string path = (parse.GetValue(output) ?? new FileInfo(parse.GetValue(id) + ".safetensors")).FullName;
            await File.WriteAllBytesAsync(path, model, ct).ConfigureAwait(false);
            return context.Write(parse, new { path, bytes = model.Length }, () => $"wrote {path} ({model.Length:N0} bytes)");
        }));
        return command;
    }

    private static string Describe(JsonElement r)
    {
        JsonElement job = r.GetProperty("job");
        var lines = new List<string>
        {
            $"{job.GetProperty("id").GetString()}  {job.GetProperty("status").GetString()}  {Text(job, "statusReason")}",
            $"plan {job.GetProperty("planHash").GetString()}  by {job.GetProperty("submittedBy").GetString()}",
        };
        lines.AddRange(r.GetProperty("decisions").EnumerateArray().Select(d => $"  {d.GetProperty("node").GetString(),-14} {d.GetProperty("decision").GetString(),-17} {d.GetProperty("reason").GetString()}"));
        lines.AddRange(r.GetProperty("history").EnumerateArray().Select(h =>
            $"  round {h.GetProperty("round").GetInt32(),3}  loss {(h.GetProperty("loss").ValueKind == JsonValueKind.Number ? h.GetProperty("loss").GetDouble().ToString("F4", CultureInfo.InvariantCulture) : "-")}  {h.GetProperty("metrics")}"));
        return string.Join(Environment.NewLine, lines);
    }

    private static string Metric(JsonElement status)
    {
        JsonElement history = status.GetProperty("history");
        if (history.GetArrayLength() == 0)
        {
            return "";
        }

        JsonElement last = history[history.GetArrayLength() - 1];
        return last.GetProperty("loss").ValueKind == JsonValueKind.Number ? $"  loss {last.GetProperty("loss").GetDouble().ToString("F4", CultureInfo.InvariantCulture)}" : "";
    }
}

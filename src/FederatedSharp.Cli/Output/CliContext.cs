using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FederatedSharp.Cli;

/// <summary>The exit codes of <c>fedsharp</c>.</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Success = 0;

    /// <summary>The operation failed or was refused: an invalid plan, an unknown hash, a broken audit chain.</summary>
    public const int Failure = 1;

    /// <summary>The command line itself is wrong: an unknown verb, a missing argument.</summary>
    public const int Usage = 2;
}

/// <summary>Where a command writes, whether it writes JSON for scripts, and the clock.</summary>
internal sealed class CliContext(TextWriter output, TextWriter error, TimeProvider time)
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static Option<bool> JsonOption { get; } = new("--json") { Description = "Write the result as JSON, for scripts.", Recursive = true };

    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    public TimeProvider Time { get; } = time;

    /// <summary>Writes <paramref name="value"/> as JSON under --json, else the text.</summary>
    public int Write(ParseResult parse, object value, Func<string> text)
    {
        Output.WriteLine(parse.GetValue(JsonOption) ? JsonSerializer.Serialize(value, JsonOptions) : text());
        return ExitCodes.Success;
    }

    /// <summary>Reports a failure (as JSON under --json) and returns its exit code.</summary>
    public int Fail(ParseResult parse, string message)
    {
        if (parse.GetValue(JsonOption))
        {
            Output.WriteLine(JsonSerializer.Serialize(new { error = message }, JsonOptions));
        }
        else
        {
            Error.WriteLine("error: " + message);
        }

        return ExitCodes.Failure;
    }
}

using Microsoft.Extensions.Logging;

namespace FederatedSharp.Diagnostics;

/// <summary>The analytics' log messages (3xx: sites' disclosure control).</summary>
internal static partial class AnalyticsLog
{
    [LoggerMessage(300, LogLevel.Warning, "Disclosure control, query {Query}: {Detail}")]
    public static partial void Refused(ILogger logger, string query, string detail);

    [LoggerMessage(301, LogLevel.Information, "Disclosure control, query {Query}: {Detail}")]
    public static partial void Suppressed(ILogger logger, string query, string detail);
}

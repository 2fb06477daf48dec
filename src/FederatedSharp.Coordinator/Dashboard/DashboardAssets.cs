using System.Reflection;
using Microsoft.AspNetCore.Http;

namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>The dashboard's stylesheet and script, embedded in the assembly: nothing to build and nothing fetched from elsewhere.</summary>
internal static class DashboardAssets
{
    private static readonly Dictionary<string, (byte[] Bytes, string Type)> Assets = Load();

    public static IResult Serve(string name, HttpContext http)
    {
        if (!Assets.TryGetValue(name, out (byte[] Bytes, string Type) asset))
        {
            return Results.NotFound();
        }

        DashboardLayout.Secure(http.Response);
        http.Response.Headers.CacheControl = "no-cache";
        return Results.Bytes(asset.Bytes, asset.Type);
    }

    private static Dictionary<string, (byte[], string)> Load()
    {
        Assembly assembly = typeof(DashboardAssets).Assembly;
        var assets = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach ((string name, string type) in new[] { ("dashboard.css", "text/css; charset=utf-8"), ("dashboard.js", "text/javascript; charset=utf-8") })
        {
            using Stream stream = assembly.GetManifestResourceStream("FederatedSharp.Coordinator.Dashboard." + name)
                ?? throw new InvalidOperationException($"The dashboard asset {name} is not embedded in {assembly.GetName().Name}.");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            assets[name] = (copy.ToArray(), type);
        }

        return assets;
    }
}

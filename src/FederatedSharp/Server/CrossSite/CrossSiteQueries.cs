namespace FederatedSharp.Server;

/// <summary>The query a site answers for cross-site evaluation.</summary>
public static class CrossSiteQueries
{
    /// <summary>"Send me your own model": the site answers with its locally trained parameters (see <see cref="LocalModelClient"/>).</summary>
    public const string LocalModel = "fedsharp.cross_site.local_model";
}

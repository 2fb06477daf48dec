namespace FederatedSharp.Node;

/// <summary>The node's identity, in <c>node.json</c>.</summary>
public sealed class NodeIdentity
{
    /// <summary>The node's name in the federation (its certificate's subject).</summary>
    public required string Name { get; init; }

    /// <summary>The coordinator's address, for example <c>https://coordinator.example.org:5400</c>; null until enrolled.</summary>
    public string? Coordinator { get; set; }
}

/// <summary>
/// A node's home directory: its identity, datasets, policy, approvals, kept plans, audit log and keys. Everything a
/// site decides lives here, at the site.
/// </summary>
public sealed class NodeHome
{
    private NodeHome(string directory, NodeIdentity identity, TimeProvider time)
    {
        Directory = directory;
        Identity = identity;
        Datasets = new DatasetRegistry(System.IO.Path.Combine(directory, "datasets.json"), time);
        Approvals = new PlanApprovals(System.IO.Path.Combine(directory, "approvals.json"), System.IO.Path.Combine(directory, "plans"), time);
        Audit = new NodeAuditLog(System.IO.Path.Combine(directory, "audit.log"), time);
        TimeProvider = time;
    }

    /// <summary>The directory.</summary>
    public string Directory { get; }

    /// <summary>The node's identity.</summary>
    public NodeIdentity Identity { get; }

    /// <summary>The registered datasets.</summary>
    public DatasetRegistry Datasets { get; }

    /// <summary>The approvals of plans.</summary>
    public PlanApprovals Approvals { get; }

    /// <summary>The node's audit log.</summary>
    public NodeAuditLog Audit { get; }

    /// <summary>The clock.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Where the node's private key, certificate signing request and certificates live (the key never leaves).</summary>
    public string KeysDirectory => System.IO.Path.Combine(Directory, "keys");

    private string PolicyFile => System.IO.Path.Combine(Directory, "policy.json");

    /// <summary>Creates a node home (or opens it when it exists with the same name).</summary>
    /// <param name="directory">The directory.</param>
    /// <param name="name">The node's name: letters, digits, '-' and '.'.</param>
    /// <param name="timeProvider">The clock (default: the system's).</param>
    /// <returns>The home.</returns>
    /// <exception cref="ArgumentException">The name is invalid, or the directory holds another node.</exception>
    public static NodeHome Create(string directory, string name, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.'))
        {
            throw new ArgumentException($"'{name}' is not a node name: use letters, digits, '-' and '.'.", nameof(name));
        }

        string full = System.IO.Path.GetFullPath(directory);
        string file = System.IO.Path.Combine(full, "node.json");
        if (File.Exists(file))
        {
            NodeHome existing = Open(full, timeProvider);
            return existing.Identity.Name == name ? existing : throw new ArgumentException($"{full} already holds node '{existing.Identity.Name}'.", nameof(directory));
        }

        System.IO.Directory.CreateDirectory(full);
        NodeJson.Write(file, new NodeIdentity { Name = name });
        NodeHome home = Open(full, timeProvider);
        home.SavePolicy(new SitePolicy());
        return home;
    }

    /// <summary>Opens an existing node home.</summary>
    /// <param name="directory">The directory.</param>
    /// <param name="timeProvider">The clock (default: the system's).</param>
    /// <returns>The home.</returns>
    /// <exception cref="DirectoryNotFoundException">The directory holds no node (run <c>fedsharp node init</c>).</exception>
    public static NodeHome Open(string directory, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string full = System.IO.Path.GetFullPath(directory);
        string file = System.IO.Path.Combine(full, "node.json");
        if (!File.Exists(file))
        {
            throw new DirectoryNotFoundException($"{full} holds no node (no node.json); create one with `fedsharp node init`.");
        }

        NodeIdentity identity = NodeJson.Read<NodeIdentity>(file, () => throw new InvalidDataException($"{file} is empty."));
        return new NodeHome(full, identity, timeProvider ?? TimeProvider.System);
    }

    /// <summary>The site's policy.</summary>
    /// <returns>The policy.</returns>
    public SitePolicy LoadPolicy()
    {
        SitePolicy policy = NodeJson.Read(PolicyFile, () => new SitePolicy());
        policy.Validate();
        return policy;
    }

    /// <summary>Replaces the site's policy.</summary>
    /// <param name="policy">The policy.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void SavePolicy(SitePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        policy.Validate();
        NodeJson.Write(PolicyFile, policy);
    }

    /// <summary>Saves the identity (after enrolment sets the coordinator).</summary>
    public void SaveIdentity() => NodeJson.Write(System.IO.Path.Combine(Directory, "node.json"), Identity);
}

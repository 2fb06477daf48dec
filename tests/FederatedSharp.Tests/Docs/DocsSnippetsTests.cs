using System.Text.RegularExpressions;

namespace FederatedSharp.Tests.Docs;

/// <summary>Every C# block of the documentation is code the build compiles (a snippet region of docs/snippets or a sample).</summary>
public partial class DocsSnippetsTests
{
    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FederatedSharp.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("FederatedSharp.sln not found above the test's folder.");
    }

    public static IEnumerable<TestCaseData> Blocks()
    {
        string root = Root();
        var docs = new[] { Path.Combine(root, "README.md") }
            .Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md"))
            .Concat(Directory.GetDirectories(Path.Combine(root, "src")).Select(d => Path.Combine(d, "README.md")).Where(File.Exists));
        foreach (string doc in docs)
        {
            int index = 0;
            foreach (Match block in CSharpBlock().Matches(File.ReadAllText(doc)))
            {
                yield return new TestCaseData(Path.GetRelativePath(root, doc), index++, block.Groups[1].Value)
                    .SetName($"Snippet_{Path.GetFileNameWithoutExtension(doc)}_{index}_IsCompiledCode");
            }
        }
    }

    [TestCaseSource(nameof(Blocks))]
    public void Snippet_InDocs_IsARegionOfCompiledCode(string doc, int index, string code)
    {
        string root = Root();
        string wanted = Normalize(code);
        bool found = Directory.GetFiles(Path.Combine(root, "docs", "snippets"), "*.cs")
            .Concat(Directory.GetFiles(Path.Combine(root, "samples"), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Any(f => Normalize(File.ReadAllText(f)).Contains(wanted, StringComparison.Ordinal));
        Assert.That(found, Is.True, $"C# block {index} of {doc} is not in any compiled file; edit the snippet region and run eng/update-doc-snippets.py.");
    }

    [Test]
    public void Blocks_Found_AtLeastTheKnownOnes()
    {
        Assert.That(Blocks().Count(), Is.GreaterThanOrEqualTo(10));
    }

    private static string Normalize(string text) => Whitespace().Replace(text, " ").Trim();

    [GeneratedRegex(@"```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}

using System.Text.RegularExpressions;

namespace FederatedSharp.TorchSharp.Training;

/// <summary>
/// Names of a module's tensors by pattern: an exact name (<c>fc.weight</c>), a module prefix ending in a dot
/// (<c>conv1.</c>), or a name with <c>*</c> wildcards (<c>*.bias</c>). Personal layers and frozen parameters use them.
/// </summary>
internal static class ParameterPatterns
{
    /// <summary>A predicate matching any of <paramref name="patterns"/>; a pattern that matches none of <paramref name="names"/> is refused, naming <paramref name="what"/> (and what the names are, <paramref name="noun"/>).</summary>
    /// <exception cref="ArgumentException">A pattern matches nothing.</exception>
    public static Func<string, bool> Compile(IEnumerable<string> patterns, IReadOnlyCollection<string> names, string what, string noun = "parameter")
    {
        var regexes = new List<Regex>();
        foreach (string pattern in patterns)
        {
            string expression = pattern.EndsWith('.') ? "^" + Regex.Escape(pattern) + ".*$"
                : "^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal) + "$";
            var regex = new Regex(expression, RegexOptions.CultureInvariant);
            if (!names.Any(regex.IsMatch))
            {
                throw new ArgumentException($"The {what} pattern '{pattern}' matches no {noun}; the module has {string.Join(", ", names)}.", nameof(patterns));
            }

            regexes.Add(regex);
        }

        return name => regexes.Any(r => r.IsMatch(name));
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Playwright;

namespace FederatedSharp.Coordinator.Tests.TestUtilities;

/// <summary>
/// Headless Chromium from the distribution's packages (<c>apt-get install chromium</c>), driven by Playwright; nothing
/// is downloaded. It trusts exactly the coordinator's TLS key (by its SPKI hash), not every certificate. Without the
/// browser, the tests that need it skip with the reason (<c>.ci/run</c> installs it and fails on that reason).
/// </summary>
internal sealed class DashboardBrowser : IAsyncDisposable
{
    public const string SkipReason = "skipped: no Chromium";

    private readonly IPlaywright _playwright;

    private DashboardBrowser(IPlaywright playwright, IBrowser browser, Uri address)
    {
        _playwright = playwright;
        Browser = browser;
        Address = address;
    }

    public IBrowser Browser { get; }

    public Uri Address { get; }

    public static string ExecutablePath => Environment.GetEnvironmentVariable("FEDSHARP_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>Where screenshots go: the test's work folder, and the folder in <c>FEDSHARP_SCREENSHOTS</c> when set (docs/images).</summary>
    public static IEnumerable<string> ScreenshotFolders()
    {
        yield return Path.Combine(TestContext.CurrentContext.WorkDirectory, "screenshots");
        if (Environment.GetEnvironmentVariable("FEDSHARP_SCREENSHOTS") is { Length: > 0 } docs)
        {
            yield return docs;
        }
    }

    public static async Task<DashboardBrowser> LaunchAsync(CoordinatorHome home, Uri address)
    {
        if (!File.Exists(ExecutablePath))
        {
            Assert.Ignore($"{SkipReason} at {ExecutablePath} (apt-get install -y chromium; .ci/run installs it)");
        }

        using X509Certificate2 server = home.LoadServerCertificate();
        string spki = Convert.ToBase64String(SHA256.HashData(server.PublicKey.ExportSubjectPublicKeyInfo()));
        IPlaywright playwright = await Playwright.CreateAsync();
        IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--ignore-certificate-errors-spki-list=" + spki],
        });
        return new DashboardBrowser(playwright, browser, address);
    }

    /// <summary>A new browser profile (its own cookies) at a laptop size.</summary>
    public async Task<IPage> NewPageAsync(int width = 1366, int height = 768)
    {
        IBrowserContext context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Address.ToString(), ViewportSize = new ViewportSize { Width = width, Height = height } });
        IPage page = await context.NewPageAsync();
        page.SetDefaultTimeout(60_000);
        return page;
    }

    /// <summary>Signs in through the form, as a person would.</summary>
    public async Task<IPage> SignInAsync(string token, int width = 1366, int height = 768)
    {
        IPage page = await NewPageAsync(width, height);
        await page.GotoAsync("/dashboard");
        Assert.That(new Uri(page.Url).AbsolutePath, Is.EqualTo("/login"), "an anonymous visitor is sent to sign in");
        await page.FillAsync("input[name=token]", token);
        await page.ClickAsync("#login-form button[type=submit]");
        // The document, not every subresource: a loaded machine once kept the page's "load" event waiting past a minute.
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/dashboard", new PageWaitForURLOptions { WaitUntil = WaitUntilState.DOMContentLoaded });
        return page;
    }

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        foreach (string folder in ScreenshotFolders())
        {
            Directory.CreateDirectory(folder);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name), FullPage = true });
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}

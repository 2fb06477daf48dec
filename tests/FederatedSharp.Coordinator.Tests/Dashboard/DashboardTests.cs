using System.Text.Json.Nodes;
using FederatedSharp.Coordinator.Security;
using FederatedSharp.Coordinator.Store;
using FederatedSharp.Coordinator.Tests.TestUtilities;
using Microsoft.Playwright;

namespace FederatedSharp.Coordinator.Tests.Dashboard;

/// <summary>
/// The dashboard in a real browser (headless Chromium from the distribution), against a coordinator and nodes on
/// loopback running real jobs. Every wait is on something the page or the coordinator does, never a fixed sleep.
/// </summary>
[NonParallelizable]
public sealed class DashboardTests
{
    private static readonly string[] Training = ["cleveland", "hungary", "switzerland"];
    private LocalFederation _federation = null!;
    private DashboardBrowser _browser = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        if (!File.Exists(DashboardBrowser.ExecutablePath))
        {
            Assert.Ignore($"{DashboardBrowser.SkipReason} at {DashboardBrowser.ExecutablePath} (apt-get install -y chromium; .ci/run installs it)");
        }

        _federation = await LocalFederation.StartAsync(LocalFederation.Sites);
        foreach (string site in Training)
        {
            _federation.Approve(site, LocalFederation.PlanJson);
            _federation.Approve(site, DpPlanJson);
        }

        _browser = await DashboardBrowser.LaunchAsync(_federation.Home, _federation.Host.Address);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        if (_federation is not null)
        {
            await _federation.DisposeAsync();
        }
    }

    /// <summary>The Heart Disease plan with DP-SGD at every site, so the job spends a measurable epsilon.</summary>
    private static string DpPlanJson
    {
        get
        {
            JsonNode plan = JsonNode.Parse(LocalFederation.PlanJson)!;
            plan["name"] = "heart-disease-dp-sgd";
            plan["privacy"] = new JsonObject { ["dpSgd"] = new JsonObject { ["maxGradNorm"] = 1.0, ["noiseMultiplier"] = 1.1, ["delta"] = 1e-5 } };
            return plan.ToJsonString();
        }
    }

    [Test]
    public async Task JobPage_JobRunsWhileOpen_RoundCounterAdvancesAndPlotsDrawWithoutReloading()
    {
        string token = await ApiTokens.IssueAsync(_federation.Host.Store, "dr.lee", Role.Researcher, TimeSpan.FromDays(1), "admin", TimeProvider.System);
        IPage page = await _browser.SignInAsync(token);

        // Submit the plan through the form; no node is connected yet, so the job waits, queued, at round 0.
        await page.GotoAsync("/dashboard/jobs/new");
        await page.FillAsync("textarea[name=plan]", DpPlanJson);
        await page.FillAsync("input[name=datasets]", "heart");
        await page.FillAsync("input[name=minNodes]", "3");
        await page.ClickAsync("#submit-form button[type=submit]");
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath.StartsWith("/dashboard/jobs/job-", StringComparison.Ordinal));
        string job = new Uri(page.Url).AbsolutePath["/dashboard/jobs/".Length..];
        Assert.That(await page.TextContentAsync("#job-progress .rounds-done"), Is.EqualTo("0"));
        await page.WaitForFunctionAsync("() => document.getElementById('live-status').classList.contains('on')");
        await page.EvaluateAsync("""
            () => {
              window.__samePage = true;
              window.__seen = [];
              const note = () => {
                const v = document.querySelector('#job-progress .rounds-done')?.textContent;
                if (v !== undefined && window.__seen[window.__seen.length - 1] !== v) window.__seen.push(v);
              };
              new MutationObserver(note).observe(document.getElementById('job-live'), { subtree: true, childList: true, characterData: true });
            }
            """);

        // Now the sites connect and the job runs while the page watches.
        foreach (string site in LocalFederation.Sites)
        {
            _federation.StartAgent(site);
        }

        await page.WaitForFunctionAsync("() => document.querySelector('#job-progress .rounds-done')?.textContent === '15'", null, new PageWaitForFunctionOptions { Timeout = 180_000 });
        await page.WaitForSelectorAsync("#job-live .status-row .badge.succeeded", new PageWaitForSelectorOptions { Timeout = 60_000 });

        Assert.That(await page.EvaluateAsync<bool>("() => window.__samePage === true"), Is.True, "the page was never reloaded");
        int[] seen = (await page.EvaluateAsync<string[]>("() => window.__seen")).Select(int.Parse).ToArray();
        Assert.That(seen, Is.Ordered.Ascending, "the counter only moves forward");
        Assert.That(seen.Any(v => v is > 0 and < 15), Is.True, $"the counter was seen between 0 and 15, not only at the end: {string.Join(", ", seen)}");
        Assert.That(await page.Locator("#chart-loss circle.point").CountAsync(), Is.EqualTo(15), "one point per round on the loss plot");
        Assert.That(await page.Locator("#chart-binary_accuracy circle.point").CountAsync(), Is.EqualTo(15), "one point per round on the accuracy plot");
        Assert.That(double.Parse((await page.TextContentAsync("#epsilon .card-value"))!, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(0).And.LessThan(100), "the epsilon DP-SGD spent");
        await File.WriteAllTextAsync("/tmp/dash-job.html", await page.ContentAsync());
        foreach (string site in Training)
        {
            Assert.That(await page.TextContentAsync($"#job-nodes tr[data-node={site}] td:nth-child(6)"), Is.EqualTo("15"), $"{site} contributed to every round");
        }

        Assert.That(await page.TextContentAsync("#job-nodes tr[data-node=va]"), Does.Contain("pending approval"));
        await AssertNoSiteRowsAsync(page);
        await DashboardBrowser.ScreenshotAsync(page, "dashboard-job.png");
        await page.GotoAsync("/dashboard");
        await page.WaitForSelectorAsync($"tr[data-job='{job}'] .badge.succeeded");
        await DashboardBrowser.ScreenshotAsync(page, "dashboard-overview.png");
        await page.Context.CloseAsync();
    }

    /// <summary>No row of any site's table appears in a page: the dashboard shows only what the coordinator holds.</summary>
    private static async Task AssertNoSiteRowsAsync(IPage page)
    {
        string html = await page.ContentAsync();
        foreach (string site in LocalFederation.Sites)
        {
            string csv = Path.Combine(AppContext.BaseDirectory, "data", "heart-disease", site + ".csv");
            foreach (string row in File.ReadLines(csv).Skip(1))
            {
                Assert.That(html, Does.Not.Contain(row), $"a row of {site}'s data appears on {page.Url}");
            }
        }
    }
}

using GrpcFederation;
using HeartDisease;

// Fed-Heart-Disease over the network: one server process and one process per hospital, talking gRPC with mutual TLS,
// each on the .NET Generic Host and configured by appsettings.json (environment variables such as
// Federation__Rounds=5 and the switches below override it).
//   dotnet run --project samples/GrpcFederation -c Release -- server [--port 5443] [--rounds 15] [--seed 42] [--certs DIR] [--plot FILE.png] [--host NAME,NAME] [--otel-console true]
//   dotnet run --project samples/GrpcFederation -c Release -- client --hospital Cleveland [--server https://localhost:5443] [--certs DIR] [--otel-console true]
// Certificates (a federation CA, the server's, one per hospital) are created in --certs (default ./certs) on first run.
// samples/GrpcFederation/run-local.sh starts all five processes on localhost.
if (args.Length == 0 || args[0] is "--help" or "-h")
{
    Console.WriteLine("usage: server [--port N] [--rounds N] [--seed N] [--certs DIR] [--plot FILE.png] [--host NAME,NAME] [--otel-console true]");
    Console.WriteLine("       client --hospital NAME [--server URL] [--certs DIR] [--otel-console true]");
    Console.WriteLine("settings: appsettings.json next to the program; environment variables Federation__<Setting> override it.");
    Console.WriteLine("hospitals: " + string.Join(", ", HeartDiseaseData.CentreNames));
    return args.Length == 0 ? 2 : 0;
}

string[] options = args[1..];
return args[0] switch
{
    "server" => await ServerMode.RunAsync(options),
    "client" => await ClientMode.RunAsync(options),
    _ => Unknown(args[0]),
};

static int Unknown(string mode)
{
    Console.Error.WriteLine($"Unknown mode '{mode}': use server or client.");
    return 2;
}

using FederatedSharp.Clients;
using FederatedSharp.Grpc.Protocol;
using Google.Protobuf;

namespace FederatedSharp.Grpc.Streaming;

/// <summary>Converts <see cref="ConfigRecord"/> to and from its wire form.</summary>
internal static class ConfigConverter
{
    public static Config ToWire(ConfigRecord? record)
    {
        var config = new Config();
        if (record is null)
        {
            return config;
        }

        foreach (KeyValuePair<string, ConfigValue> pair in record)
        {
            ConfigValue value = pair.Value;
            config.Entries[pair.Key] = value.Kind switch
            {
                ConfigValueKind.Boolean => new ConfigEntry { BoolValue = value.AsBoolean() },
                ConfigValueKind.Int64 => new ConfigEntry { IntValue = value.AsInt64() },
                ConfigValueKind.Double => new ConfigEntry { DoubleValue = value.AsDouble() },
                ConfigValueKind.String => new ConfigEntry { StringValue = value.AsString() },
                ConfigValueKind.Bytes => new ConfigEntry { BytesValue = UnsafeByteOperations.UnsafeWrap(value.AsBytes()) },
                _ => throw new InvalidOperationException($"Unknown config value kind {value.Kind}."),
            };
        }

        return config;
    }

    /// <exception cref="InvalidDataException">An entry has no value.</exception>
    public static ConfigRecord FromWire(Config? config)
    {
        var record = new ConfigRecord();
        if (config is null)
        {
            return record.Freeze();
        }

        foreach (KeyValuePair<string, ConfigEntry> pair in config.Entries)
        {
            ConfigEntry entry = pair.Value;
            record.Add(pair.Key, entry.ValueCase switch
            {
                ConfigEntry.ValueOneofCase.BoolValue => ConfigValue.FromBoolean(entry.BoolValue),
                ConfigEntry.ValueOneofCase.IntValue => ConfigValue.FromInt64(entry.IntValue),
                ConfigEntry.ValueOneofCase.DoubleValue => ConfigValue.FromDouble(entry.DoubleValue),
                ConfigEntry.ValueOneofCase.StringValue => ConfigValue.FromString(entry.StringValue),
                ConfigEntry.ValueOneofCase.BytesValue => ConfigValue.FromBytes(entry.BytesValue.Span),
                _ => throw new InvalidDataException($"Config entry '{pair.Key}' has no value."),
            });
        }

        return record.Freeze();
    }
}

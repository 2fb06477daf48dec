namespace FederatedSharp.TorchSharp.Training;

/// <summary>How a <see cref="TorchTrainerClient"/> personalises the federated model to its site.</summary>
public enum PersonalizationMethod
{
    /// <summary>No personalisation: the whole model is federated.</summary>
    None,

    /// <summary>
    /// Local fine-tuning of the global model, the baseline: evaluation reports the global model, then
    /// <see cref="PersonalizationOptions.FineTuneSteps"/> local steps from it and the fine-tuned model as <c>personal_*</c>.
    /// </summary>
    FineTune,

    /// <summary>FedPer (Arivazhagan et al. 2019): the layers named by <see cref="PersonalizationOptions.PersonalLayers"/> (the head) stay at the site; the body is federated.</summary>
    FedPer,

    /// <summary>FedBN (Li et al. 2021): normalisation layers' parameters and running statistics stay at the site.</summary>
    FedBN,

    /// <summary>
    /// FedRep (Collins et al. 2021): each round trains the personal head for <see cref="PersonalizationOptions.HeadEpochs"/>
    /// epochs with the body frozen, then the body for the round's local steps with the head frozen; only the body travels.
    /// </summary>
    FedRep,

    /// <summary>
    /// Ditto (Li et al. 2021): besides the ordinary local training of the global model w (which travels), a personal
    /// model v is trained with the proximal term lambda/2 ||v - w||^2 (<see cref="PersonalizationOptions.DittoLambda"/>)
    /// and stays at the site.
    /// </summary>
    Ditto,
}

/// <summary>
/// Personalisation of <see cref="TorchTrainerClient"/> (<see cref="TorchTrainerOptions.Personalization"/>). Personal
/// tensors never leave the site: the client's <see cref="TorchTrainerClient.Layout"/>, and so the server's model, lacks
/// them. Between rounds they live in the module and, when the deployment keeps client state (a simulation's state
/// store, a gRPC runner), in that state, so they survive re-created clients and checkpoint and resume.
/// </summary>
public sealed class PersonalizationOptions
{
    /// <summary>The method (default none).</summary>
    public PersonalizationMethod Method { get; set; }

    /// <summary>
    /// FedPer's personal tensors, by name: an exact tensor name (<c>head.weight</c>), a module prefix ending in a dot
    /// (<c>head.</c>), or a pattern with <c>*</c> (<c>fc2.*</c>). Every pattern must match at least one parameter.
    /// </summary>
    public IList<string> PersonalLayers { get; } = new List<string>();

    /// <summary>FedRep's head epochs per round, E_h (default 1).</summary>
    public int HeadEpochs { get; set; } = 1;

    /// <summary>Ditto's lambda (default 0.1): 0 is local training, large values pull the personal model to the global one.</summary>
    public double DittoLambda { get; set; } = 0.1;

    /// <summary>FineTune's local steps from the global model before evaluation (default 10).</summary>
    public int FineTuneSteps { get; set; } = 10;

    internal void Validate()
    {
        if (!Enum.IsDefined(Method))
        {
            throw new ArgumentOutOfRangeException(nameof(Method), Method, "Unknown personalisation method.");
        }

        if (Method is PersonalizationMethod.FedPer or PersonalizationMethod.FedRep && PersonalLayers.Count == 0)
        {
            throw new ArgumentException($"{Method} needs PersonalLayers: the names (or prefixes, or * patterns) of the tensors that stay at the site.", nameof(PersonalLayers));
        }

        if (Method == PersonalizationMethod.FedRep)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(HeadEpochs, nameof(HeadEpochs));
        }

        if (Method == PersonalizationMethod.Ditto && (!(DittoLambda >= 0) || !double.IsFinite(DittoLambda)))
        {
            throw new ArgumentOutOfRangeException(nameof(DittoLambda), DittoLambda, "Ditto's lambda must be a finite number >= 0.");
        }

        if (Method == PersonalizationMethod.FineTune)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(FineTuneSteps, nameof(FineTuneSteps));
        }
    }
}

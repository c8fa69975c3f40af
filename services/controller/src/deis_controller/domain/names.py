"""App ids: the naming rule, reserved names, and generated ``<adjective>-<noun>`` names."""

from __future__ import annotations

import re
import secrets

from deis_controller.errors import FieldErrors

APP_ID = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


APP_ID_MESSAGE = (
    "App name must start with an alphabetic character, cannot end with a hyphen and can only contain "
    "a-z (lowercase), 0-9 and hyphens."
)

ADJECTIVES = _words(
    "ablest absurd actual aerial allied artful atomic august bamboo benign blonde blurry bolder breezy "
    "bubbly candid casual cheery classy clever convex cubist dainty dapper decent deluxe docile dogged "
    "dreamy earthy easier echoed edible elfish excess exotic expert fabled famous feline finest flaxen "
    "folksy frisky frozen gaslit gentle gifted ginger global golden grassy hearty hidden hipper honest "
    "humble hungry hushed iambic iconic indoor inland jaunty jiggly jovial joyful junior kindly lively "
    "lonely lovely lucent magnet mellow merry mighty modern nimble normal oblong oldest outlaw owlish "
    "pastel pepper placid poetic polite proven quaint quirky random rested rococo rubber rugged rustic "
    "sanest scenic shadow silver simple sleepy smiley snappy snoopy snowed social soften spiral stable "
    "steady stolen strong sturdy subtle sullen sunlit superb swanky tender timely tinted tragic trendy "
    "triple turbid uneven unsung upbeat urbane usable valued velvet violet vulcan wakeup walnut wicked "
    "wilder wintry wizard wooden woolen yellow zanier zephyr zigzag"
)

NOUNS = _words(
    "aardvark airfield airplane ancestor anteater antelope appetite applause arrival asteroid backyard "
    "ballroom bathroom bearskin beginner birdbath blackout blizzard bluebell blueprint bookcase bookworm "
    "boutique bracelet buckshot calamari calendar carousel cashmere casualty catapult ceremony chipmunk "
    "cicerone cinnamon cloudcap coauthor compound concrete corduroy cornmeal crescent daffodil database "
    "daybreak deadline dinosaur director dispatch dolphins doorstep doughnut dragster dumpling eggplant "
    "elephant emission endpoint envelope equation estimate exchange explorer farmland fearless figurine "
    "firewood flagship flamingo flapjack floodlit football forecast fountain freezing gardener gemstone "
    "glossary goldfish grandson graphics guardian gumption habitant handbook handsome hardware headline "
    "heirloom hologram horsefly hotelier hydrogen icebreak iceboxes ideology illusion industry inventor "
    "jamboree keepsake keyboard kingdom kneecaps landmark laughter lemonade lifeboat lollipop magnolia "
    "mainland mandolin marathon meteorite milkweed mongoose monolith moonbeam moonwalk mosquito mudguard "
    "nebulous neighbor notebook nugget obsidian ointment ornament outfield overcoat pancakes paradigm "
    "peekaboo penknife pinecone playroom postcard pretzels quagmire quandary quarters quicksand raindrop "
    "rattlers redstart reindeer retrieve riverbed rosewood saxophone scarcity seashell shamrock showroom "
    "sidewalk skeleton snapshot snowball snowdrop songbird sparkler spearmint squadron stardust sunshine "
    "surfboard teaching teaspoon tendency terminal textbook thousand tomahawk toolshed trapdoor treasure "
    "tricycle turnover undertow unicycle universe vacation vagabond vanguard velvetin vineyard volcano "
    "wardrobe waterbed waterway weekend windmill woodland workshop yachting yearbook zeppelin"
)


def generated_name() -> str:
    return f"{secrets.choice(ADJECTIVES)}-{secrets.choice(NOUNS)}"


def validate_app_id(app_id: str, reserved: set[str]) -> None:
    if len(app_id) > 63:
        raise FieldErrors.one("id", "Ensure this field has no more than 63 characters.")
    if not app_id:
        raise FieldErrors.one("id", "This field may not be blank.")
    errors: list[str] = []
    if not SLUG.match(app_id):
        errors.append("Enter a valid 'slug' consisting of letters, numbers, underscores or hyphens.")
    if not APP_ID.match(app_id):
        errors.append(APP_ID_MESSAGE)
    if errors:
        raise FieldErrors({"id": errors})
    if app_id in reserved:
        raise FieldErrors.one("id", f"{app_id} is a reserved name.")

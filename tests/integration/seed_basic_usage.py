# The seed README's "Basic Usage", unchanged except the import line
# (tts_queue_system -> tts_core) and the two pyttsx3 lines, which are removed.
import asyncio

from tts_core import MessagePriority, TTSConfig, TTSQueueManager


async def main():
    # Create configuration
    config = TTSConfig(
        max_queue_size=1000,
        max_concurrent_workers=3,
        rate_limit_per_minute=60
    )

    # Create TTS manager
    tts_manager = TTSQueueManager(config)

    # Set up TTS engine (example with pyttsx3)

    async def tts_engine(text: str, **kwargs) -> bytes:
        # Your TTS implementation here
        return b"audio_data"

    tts_manager.set_tts_engine(tts_engine)

    # Start the system
    await tts_manager.start()

    # Add messages
    tts_manager.add_message("Hello world!", MessagePriority.NORMAL)
    tts_manager.add_message("Urgent message!", MessagePriority.URGENT)

    # Wait for processing
    await asyncio.sleep(5)

    # Stop the system
    await tts_manager.stop()

asyncio.run(main())
